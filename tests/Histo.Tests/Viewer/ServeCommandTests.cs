using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Histo.Tests.Cli;

namespace Histo.Tests.Viewer;

/// <summary><c>histo serve</c> as a user runs it: a real process, its printed URL, real HTTP, stopped by a signal.</summary>
public partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_prints_its_url_serves_the_folder_and_stops_on_sigterm()
    {
        string folder = TestPaths.NewTempDirectory();
        try
        {
            File.Copy(TestPaths.CmuSmall, Path.Combine(folder, "cmu-1-small-region.svs"));
            using var process = StartServe(folder, "--port", "0");
            try
            {
                string firstLine = await ReadLineAsync(process, TimeSpan.FromMinutes(1));
                var match = UrlPattern().Match(firstLine);
                Assert.True(match.Success, $"expected the URL on the first line, got: {firstLine}");
                var url = new Uri(match.Value);
                Assert.Equal("127.0.0.1", url.Host);

                using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(1) };
                string index = await http.GetStringAsync("/");
                Assert.Contains("cmu-1-small-region.svs", index, StringComparison.Ordinal);
                var tile = await http.GetAsync("/cmu-1-small-region.svs_files/12/0_0.jpeg");
                Assert.Equal(HttpStatusCode.OK, tile.StatusCode);

                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the server stops on SIGTERM");
                Assert.Equal(0, process.ExitCode);
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("/"));
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

    [Fact]
    public void Missing_folder_bad_port_and_bad_host_are_usage_errors()
    {
        var missing = CliRunner.Run("serve", "/no/such/folder");
        CliRunner.AssertOneLineError(missing, "does not exist");
        Assert.Equal(2, missing.ExitCode);
        var file = CliRunner.Run("serve", TestPaths.CmuSmall);
        CliRunner.AssertOneLineError(file, "is a file");
        Assert.Equal(2, file.ExitCode);
        var port = CliRunner.Run("serve", TestPaths.Shared("slides"), "--port", "70000");
        CliRunner.AssertOneLineError(port, "--port");
        Assert.Equal(2, port.ExitCode);
        var host = CliRunner.Run("serve", TestPaths.Shared("slides"), "--host", "example.org");
        CliRunner.AssertOneLineError(host, "--host");
        Assert.Equal(2, host.ExitCode);
        var predictions = CliRunner.Run("serve", TestPaths.Shared("slides"), "--predictions", "/no/such/out");
        CliRunner.AssertOneLineError(predictions, "--predictions");
        Assert.Equal(2, predictions.ExitCode);
    }

    [Fact]
    public void Port_in_use_gives_one_error_line()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var result = CliRunner.RunWithTimeout(TimeSpan.FromMinutes(1), "serve", TestPaths.Shared("slides"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        CliRunner.AssertOneLineError(result, "cannot listen on 127.0.0.1:" + port);
        Assert.EndsWith("; choose another port with --port", result.StdErr.TrimEnd(), StringComparison.Ordinal); // the CLI names its option, the viewer does not
        Assert.Equal(1, result.ExitCode);
    }

    private static Process StartServe(string folder, params string[] options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(folder);
        foreach (string o in options)
        {
            start.ArgumentList.Add(o);
        }

        start.Environment["NO_COLOR"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
    }

    private static async Task<string> ReadLineAsync(Process process, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        string? line = await process.StandardOutput.ReadLineAsync(cancel.Token);
        if (line == null)
        {
            throw new InvalidOperationException("histo serve exited early: " + await process.StandardError.ReadToEndAsync());
        }

        return line;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/")]
    private static partial Regex UrlPattern();
}
