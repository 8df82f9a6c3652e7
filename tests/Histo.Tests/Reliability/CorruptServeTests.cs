using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Histo.Tests.Reliability;

/// <summary>
/// <c>histo serve</c> over a folder of the corrupt slides and images: the slide list says which cannot be opened, every
/// page, Deep Zoom descriptor and tile request of a corrupt file is answered with a 4xx (422 for a typed error, 404
/// for what is not there), never a 500 or a dead server, and the server still serves the good slide and stops cleanly.
/// </summary>
public sealed partial class CorruptServeTests
{
    private static readonly string[] SlideCases =
    [
        "svs-empty-file", "svs-text-file", "svs-truncated-header-only", "svs-jpeg-tile-zeroed", "svs-jpeg-tile-bitflips",
        "svs-missing-tile", "svs-bomb-dimensions", "svs-ifd-loop", "png-bomb-dimensions", "png-truncated-half", "jpeg-truncated-half",
    ];

    [Fact]
    public async Task Serve_answers_every_request_about_corrupt_slides_without_a_500_and_stays_up()
    {
        string folder = TestPaths.NewTempDirectory();
        try
        {
            var cases = new CaseFolder(folder);
            foreach (string name in SlideCases)
            {
                CorruptInputs.All[name].Build(cases);
            }

            File.Copy(TestPaths.TinySvs, Path.Combine(folder, "good.svs"));
            var files = Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
            using var process = Start(folder);
            try
            {
                string? first = await process.StandardOutput.ReadLineAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
                var url = UrlPattern().Match(first ?? "");
                Assert.True(url.Success, $"expected the URL, got: {first}\n{(process.HasExited ? await process.StandardError.ReadToEndAsync() : "")}");
                using var http = new HttpClient { BaseAddress = new Uri(url.Value), Timeout = TimeSpan.FromMinutes(1) };

                string index = await http.GetStringAsync("/");
                foreach (string file in files)
                {
                    Assert.Contains(WebUtility.HtmlEncode(file), index, StringComparison.Ordinal);
                }

                var statuses = new List<string>();
                foreach (string file in files)
                {
                    string name = Uri.EscapeDataString(file);
                    foreach (string path in new[]
                    {
                        $"/view/{name}", $"/thumbnail/{name}", $"/api/slides/{name}", $"/{name}.dzi",
                        $"/{name}_files/0/0_0.jpeg", $"/{name}_files/8/0_0.jpeg", $"/{name}_files/12/0_0.jpeg",
                    })
                    {
                        using var response = await http.GetAsync(path);
                        int code = (int)response.StatusCode;
                        statuses.Add($"{code} {path}");
                        Assert.True(code is >= 200 and < 500, $"{path}: {code} {await response.Content.ReadAsStringAsync()}");
                        Assert.False(process.HasExited, $"the server died on {path}");
                    }
                }

                // The good slide is still served after all that.
                using (var tile = await http.GetAsync("/good.svs_files/4/0_0.jpeg"))
                {
                    Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
                }

                Assert.Contains(statuses, s => s.StartsWith("422 ", StringComparison.Ordinal) && s.Contains("zeroed.svs_files/12/", StringComparison.Ordinal));
                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the server stops on SIGTERM");
                string stderr = await process.StandardError.ReadToEndAsync();
                Assert.Equal(0, process.ExitCode);
                Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Process Start(string folder)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"), "serve", folder, "--port", "0" })
        {
            start.ArgumentList.Add(a);
        }

        const string tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        if (File.Exists(tcmalloc))
        {
            start.Environment["LD_PRELOAD"] = tcmalloc;
        }

        start.Environment["NO_COLOR"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/")]
    private static partial Regex UrlPattern();
}
