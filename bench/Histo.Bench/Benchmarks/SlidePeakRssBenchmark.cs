using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Histo.Bench.Infrastructure;
using Histo.Learning.Models;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Row <c>peak_rss_mb</c> (benchmark name <c>peak_rss_mb_slide</c>, so that it can be run without
/// <c>peak_rss_mb_read</c>): peak resident memory (VmHWM, MB) of a <c>histo slide</c> child process over the whole
/// 50,000 x 50,000 generated slide (tissue detection, every tissue patch at 64 px / 4 µm/px with the pretrained
/// ResNet18 and an untrained 4-class head, batch 16, 2 threads, maps and overlays written), against the peak of a
/// model-only child in the same run (the same model loaded as the CLI loads it, then 50 batches of 16 patches
/// classified: the floor that the pipeline adds reading, tissue detection and maps to); the peak of a
/// <c>histo info</c> child on the same slide (runtime + slide opened) goes in the notes. The goal is
/// absolute: under 2048 MB. The CLI is the Release build that bench/run makes; children get tcmalloc and
/// OMP_WAIT_POLICY=PASSIVE as bench/run sets them.
/// </summary>
public sealed partial class SlidePeakRssBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "peak_rss_mb_slide";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string slide = LargeSlide.Ensure(context);
        string cli = CliDll(context);
        string work = Path.Combine(context.CacheDir, $"peak-rss-slide.{Environment.ProcessId}");
        string model = Path.Combine(work, "model");
        Directory.CreateDirectory(work);
        try
        {
            TorchSharp.torch.set_num_threads(2);
            using (var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 4), SlideInferenceBenchmark.Card(64, 4.0)))
            {
                classifier.Save(model);
            }

            var info = RunCli(cli, ["info", slide]);
            var modelOnly = PeakRss.Run(ChildMode.Host, [.. ChildMode.HostArgs, ChildMode.Flag, "predict", model, slide, "50"], TimeSpan.FromMinutes(30), ChildEnvironment());
            if (modelOnly.ExitCode != 0)
            {
                throw new InvalidOperationException($"the model-only child exited {modelOnly.ExitCode}: {modelOnly.Stderr.Trim()}");
            }

            // Edge-to-edge 64-px patches (--stride-pixels 64), as the recorded figures were measured: the default overlaps them.
            var run = RunCli(cli, ["slide", model, slide, "-o", Path.Combine(work, "out"), "--threads", "2", "--batch", "16", "--stride-pixels", "64"]);
            var done = DoneLine().Match(run.Stderr);
            string detail = done.Success
                ? $"{done.Groups["patches"].Value} patches of 64 px at 4 µm/px in {done.Groups["seconds"].Value} s ({done.Groups["rate"].Value} patches/s)"
                : string.Create(CultureInfo.InvariantCulture, $"{run.Seconds:0} s");
            string notes = string.Create(CultureInfo.InvariantCulture,
                $"histo slide on the whole 50000x50000 generated slide: {detail}, batch 16, 2 threads, ResNet18; baseline: the model alone (load + 50 batches of 16 patches, 2 threads); histo info on the same slide {info.PeakRssMb:0} MB; goal < 2048 MB");
            yield return new BenchResult("peak_rss_mb", run.PeakRssMb, Math.Max(modelOnly.PeakRssMb, SelfPeak(modelOnly)), "MB", "model-only process (PatchClassifier.Load + Predict)",
                LowerIsBetter: true, Notes: notes);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Dictionary<string, string> ChildEnvironment()
    {
        var environment = new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "PASSIVE" };
        const string tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        if (File.Exists(tcmalloc))
        {
            environment["LD_PRELOAD"] = tcmalloc;
        }

        return environment;
    }

    private static double SelfPeak(ChildRun run)
    {
        string line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{'));
        using var json = JsonDocument.Parse(line);
        return json.RootElement.GetProperty("self_peak_rss_mb").GetDouble();
    }

    private static ChildRun RunCli(string cli, string[] args)
    {
        var run = PeakRss.Run("dotnet", [cli, .. args], TimeSpan.FromMinutes(60), ChildEnvironment());
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"histo {args[0]} exited {run.ExitCode}: {run.Stderr.Trim()}");
        }

        return run;
    }

    /// <summary>The Release build of the CLI (bench/run builds it), else a Debug build.</summary>
    private static string CliDll(BenchContext context)
    {
        foreach (string configuration in new[] { "Release", "Debug" })
        {
            string path = Path.Combine(context.RepoRoot, "src", "Histo.Cli", "bin", configuration, "net10.0", "linux-x64", "Histo.Cli.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("the histo CLI is not built: dotnet build src/Histo.Cli -c Release (bench/run does)");
    }

    [GeneratedRegex(@"done in (?<seconds>[0-9.]+) s \((?<patches>[0-9]+) patches, (?<rate>[0-9.]+) patches/s\)")]
    private static partial Regex DoneLine();
}
