using System.Globalization;
using System.Text.Json;
using Histo.Bench.Infrastructure;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>peak_rss_mb_read</c>: peak resident memory of a child process that reads the whole large generated slide
/// (50,000 x 50,000) at level 0 in 1024 x 1024 regions on 2 threads through Histo's slide API, against the same
/// child reading through raw libopenslide into reused buffers. The issue's goal is an absolute one (under 2 GB for
/// <c>histo slide</c> on this slide, measured by <see cref="SlidePeakRssBenchmark"/> as <c>peak_rss_mb</c>; this
/// row covers the reading part of it).
/// </summary>
public sealed class PeakRssBenchmark : IBenchmark
{
    private const int RegionPixels = 1024;
    private const int Threads = 2;

    /// <inheritdoc />
    public string Name => "peak_rss_mb_read";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string slide = LargeSlide.Ensure(context);
        string fraction = context.Quick ? "0.1" : "1";
        var histo = RunChild(slide, "histo", fraction);
        var raw = RunChild(slide, "raw", fraction);
        string notes = string.Create(CultureInfo.InvariantCulture,
            $"{histo.Reads} reads of {RegionPixels}x{RegionPixels} on {Threads} threads over {(context.Quick ? "the top tenth of " : "")}the 50000x50000 slide; Histo {histo.Seconds:0} s, raw {raw.Seconds:0} s; goal < 2048 MB");
        yield return new BenchResult(Name, histo.PeakMb, raw.PeakMb, "MB", "raw libopenslide", LowerIsBetter: true, Notes: notes);
    }

    private static (double PeakMb, long Reads, double Seconds) RunChild(string slide, string reader, string fraction)
    {
        var run = PeakRss.Run(ChildMode.Host, [.. ChildMode.HostArgs, ChildMode.Flag, "read-all", slide, reader, $"{RegionPixels}", $"{Threads}", fraction]);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"the {reader} child exited {run.ExitCode}: {run.Stderr.Trim()}");
        }

        string line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{'));
        using var json = JsonDocument.Parse(line);
        double self = json.RootElement.GetProperty("self_peak_rss_mb").GetDouble();
        return (Math.Max(run.PeakRssMb, self), json.RootElement.GetProperty("reads").GetInt64(), json.RootElement.GetProperty("seconds").GetDouble());
    }
}
