using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Histo.Imaging;
using Xunit.Abstractions;

namespace Histo.Tests.Reliability;

/// <summary>Corrupt whole-slide files (SVS, tiled TIFF) through the CLI; see <see cref="CorruptCaseRunner"/>.</summary>
public sealed class CorruptSlideCliTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => CorruptCaseRunner.Names(CorruptGroup.Slides);

    [Fact]
    public void The_catalogue_has_at_least_30_corrupt_inputs() => Assert.True(CorruptInputs.All.Count >= 30, $"{CorruptInputs.All.Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corrupt_slide_gives_its_stated_outcome(string name) => CorruptCaseRunner.Run(name, output);
}

/// <summary>Corrupt plain images (PNG, JPEG, flat TIFF) through the CLI.</summary>
public sealed class CorruptImageCliTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => CorruptCaseRunner.Names(CorruptGroup.Images);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corrupt_image_gives_its_stated_outcome(string name) => CorruptCaseRunner.Run(name, output);
}

/// <summary>Corrupt annotations, masks, datasets and manifests through the CLI.</summary>
public sealed class CorruptAnnotationAndDatasetCliTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => CorruptCaseRunner.Names(CorruptGroup.AnnotationsAndDatasets);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corrupt_annotation_or_dataset_gives_its_stated_outcome(string name) => CorruptCaseRunner.Run(name, output);
}

/// <summary>Hostile inputs of issue 17: special files, absurd declared sizes, deep nesting, other encodings, terminal and CSV injection.</summary>
public sealed class HostileInputCliTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => CorruptCaseRunner.Names(CorruptGroup.Hostile);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_input_gives_its_stated_outcome(string name) => CorruptCaseRunner.Run(name, output);
}

/// <summary>Poisoned and absurd model directories (weights with NaN or infinity, cards with values out of range).</summary>
public sealed class CorruptModelCliTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => CorruptCaseRunner.Names(CorruptGroup.Models);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corrupt_model_gives_its_stated_outcome(string name) => CorruptCaseRunner.Run(name, output);
}

/// <summary>
/// Runs every corrupt input of <see cref="CorruptInputs"/> through every CLI command that takes it, as a real
/// process: the stated outcome (one <c>error:</c> line, or a defined graceful result), never a crash, a hang, an
/// unhandled exception or a partial output file.
/// </summary>
internal static class CorruptCaseRunner
{
    /// <summary>
    /// A hang is a failure: no run on these small inputs needs more than this. Runs take 0.3-12 s here, but the suite
    /// runs other test classes beside them on two cores, so the limit leaves room for a loaded machine.
    /// </summary>
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Names(CorruptGroup group) =>
        new(CorruptInputs.All.Values.Where(c => c.Group == group).Select(c => c.Name).Order(StringComparer.Ordinal));

    public static void Run(string name, ITestOutputHelper output)
    {
        var corrupt = CorruptInputs.All[name];
        string root = TestPaths.NewTempDirectory();
        try
        {
            var folder = new CaseFolder(root);
            var runs = corrupt.Build(folder);
            output.WriteLine($"{name}: {corrupt.Expectation}");
            var failures = new ConcurrentBag<string>();
            Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                string outDir = Path.Combine(root, $"out-{i}");
                Directory.CreateDirectory(outDir);
                if (corrupt.Unprivileged)
                {
                    File.SetUnixFileMode(outDir, (UnixFileMode)0x1FF);
                }

                var run = runs[i];
                string[] args = run.Args.Select(a => a.Replace("{out}", outDir, StringComparison.Ordinal)).ToArray();
                try
                {
                    var result = Execute(args, corrupt.Unprivileged);
                    Check(run, result, outDir);
                }
                catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException)
                {
                    failures.Add($"{run}\n    {e.Message.ReplaceLineEndings("\n    ")}");
                }
            });
            foreach (var run in runs)
            {
                output.WriteLine("  " + run);
            }

            Assert.True(failures.IsEmpty, $"{failures.Count} of {runs.Count} runs failed:\n" + string.Join("\n", failures));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Check(CliRun run, Result result, string outDir)
    {
        string all = result.StdOut + result.StdErr;
        string detail = $"exit {result.ExitCode}\n--- stderr:\n{Tail(result.StdErr)}\n--- stdout:\n{Tail(result.StdOut)}";
        Assert.True(result.ExitCode is >= 0 and < 128, "crashed (signal or abort): " + detail);
        Assert.False(all.Contains("Unhandled exception", StringComparison.Ordinal), "unhandled exception: " + detail);
        Assert.False(all.Contains("   at ", StringComparison.Ordinal), "stack trace: " + detail);
        // "unexpected X" is not a message (issue 17): every run of the whole suite is grepped, in any letter case.
        Assert.False(result.StdErr.Contains("unexpected", StringComparison.OrdinalIgnoreCase), "stderr says 'unexpected': " + detail);
        foreach (string text in run.Forbidden ?? [])
        {
            Assert.False(all.Contains(text, StringComparison.Ordinal), $"output contains {System.Text.Json.JsonSerializer.Serialize(text)}: " + detail);
        }

        foreach (string text in run.StdErrContains ?? [])
        {
            Assert.True(result.StdErr.Contains(text, StringComparison.Ordinal), $"stderr lacks '{text}': " + detail);
        }

        if (run.MaxPeakRssMegabytes is { } limit)
        {
            Assert.True(result.PeakRssMegabytes <= limit, $"peak RSS {result.PeakRssMegabytes} MB, more than the {limit} MB bound: " + detail);
        }
        var entries = Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName).ToList();
        switch (run.Expect)
        {
            case Expect.Error:
                var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(result.ExitCode != 0 && lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal),
                    "expected one error line and a non-zero exit: " + detail);
                if (run.ErrorContains is { } text)
                {
                    Assert.True(lines[0].Contains(text, StringComparison.OrdinalIgnoreCase), $"error line lacks '{text}': " + detail);
                }

                Assert.True(entries.Count == 0, "left behind after the failure: " + string.Join(", ", entries));
                break;
            case Expect.Success:
                Assert.True(result.ExitCode == 0, "expected success: " + detail);
                Assert.False(result.StdErr.Contains("error:", StringComparison.Ordinal), "error line on success: " + detail);
                Assert.True(entries.All(e => !e!.StartsWith('.')), "temporary files left: " + string.Join(", ", entries));
                foreach (string expected in run.StdOutContains ?? [])
                {
                    // JSON output escapes quotes; compare with the text as JSON would write it too.
                    string json = System.Text.Json.JsonSerializer.Serialize(expected)[1..^1];
                    Assert.True(result.StdOut.Contains(expected, StringComparison.Ordinal) || result.StdOut.Contains(json, StringComparison.Ordinal),
                        $"stdout lacks '{expected}': " + detail);
                }

                if (run.Output is { } name)
                {
                    AssertValidOutput(Path.Combine(outDir, name));
                }
                else if (run.Args.Contains("--json"))
                {
                    using var _ = JsonDocument.Parse(result.StdOut);
                }

                break;
            case Expect.FailedSlide:
                Assert.True(result.ExitCode == 1, "expected exit 1: " + detail);
                var errors = result.StdErr.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 1 && (run.ErrorContains is null || errors[0].Contains(run.ErrorContains, StringComparison.OrdinalIgnoreCase)),
                    $"expected one error line containing '{run.ErrorContains}': " + detail);
                Assert.Empty(Directory.EnumerateFiles(outDir, "summary.json", SearchOption.AllDirectories));
                Assert.True(Directory.EnumerateFiles(outDir, "cohort.csv", SearchOption.AllDirectories).Any(f => File.ReadAllText(f).Contains(",failed,", StringComparison.Ordinal)),
                    "the cohort table does not record the slide as failed: " + detail);
                break;
            case Expect.Leak:
                Assert.True(result.ExitCode == 1, "expected leakcheck's exit 1: " + detail);
                Assert.False(result.StdErr.Contains("error:", StringComparison.Ordinal), "a leak is a finding, not an error: " + detail);
                Assert.Contains("duplicate", result.StdOut, StringComparison.OrdinalIgnoreCase);
                break;
        }
    }

    private static void AssertValidOutput(string path)
    {
        if (Directory.Exists(path))
        {
            string csv = Path.Combine(path, "patches.csv");
            Assert.True(File.Exists(csv), $"{path} has no patches.csv");
            int rows = File.ReadAllLines(csv).Length - 1;
            int pngs = Directory.EnumerateFiles(path, "*.png", SearchOption.AllDirectories).Count();
            Assert.True(rows == pngs, $"patches.csv lists {rows} patches, {pngs} PNGs written");
            return;
        }

        Assert.True(File.Exists(path), $"{path} was not written");
        if (path.EndsWith(".npy", StringComparison.Ordinal))
        {
            Assert.True(Histo.IO.NpyFile.ReadFloat32(path).Length > 0, $"{path} holds no row");
            return;
        }

        if (path.EndsWith(".csv", StringComparison.Ordinal))
        {
            Assert.True(File.ReadAllLines(path).Length >= 2, $"{path} has no data row");
            return;
        }

        if (path.EndsWith(".json", StringComparison.Ordinal))
        {
            using var _ = JsonDocument.Parse(File.ReadAllText(path));
            return;
        }

        var image = ImageIO.Load(path);
        Assert.True(image.Width > 0 && image.Height > 0);
    }

    private static string Tail(string text) => text.Length > 1500 ? "..." + text[^1500..] : text;

    private sealed record Result(int ExitCode, string StdOut, string StdErr, long PeakRssMegabytes);

    private static long PeakRssKb(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Runs the built histo, optionally as uid/gid 65534 (nobody) through setpriv, with a time limit.</summary>
    private static Result Execute(string[] args, bool unprivileged)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll");
        var start = new ProcessStartInfo(unprivileged ? "setpriv" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (unprivileged)
        {
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" })
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["HOME"] = Path.GetTempPath();
            start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        }

        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        const string tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        if (File.Exists(tcmalloc))
        {
            start.Environment["LD_PRELOAD"] = tcmalloc;
        }

        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peakKb = 0;
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(20))
        {
            // VmHWM is the process's peak resident size so far; the last reading before exit is (nearly) its peak.
            peakKb = Math.Max(peakKb, PeakRssKb(process.Id));
            if (clock.Elapsed > RunTimeout)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"did not finish within {RunTimeout.TotalSeconds} s (hang)");
            }
        }

        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, peakKb / 1024);
    }
}
