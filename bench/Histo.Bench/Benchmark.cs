using System.Diagnostics;

namespace Histo.Bench;

/// <summary>
/// One comparison: Histo against a baseline measured in the same run on the same machine. Figures are throughputs
/// (higher is better) unless <see cref="BenchResult.LowerIsBetter"/>; the ratio is Histo / baseline for
/// throughputs and baseline / Histo for costs, so a ratio above 1 always means Histo is ahead.
/// </summary>
public interface IBenchmark
{
    /// <summary>Name(s) this benchmark reports under in results.json; used for filtering on the command line.</summary>
    string Name { get; }

    /// <summary>Runs and returns one or more results.</summary>
    IEnumerable<BenchResult> Run(BenchContext context);
}

/// <summary>One row of the results table.</summary>
public sealed record BenchResult(string Name, double Histo, double Baseline, string Unit, string BaselineName, bool LowerIsBetter = false, string Notes = "")
{
    /// <summary>Above 1 means Histo is ahead of the baseline.</summary>
    public double Ratio => LowerIsBetter ? Baseline / Histo : Histo / Baseline;
}

/// <summary>Shared settings and helpers for benchmarks.</summary>
public sealed class BenchContext
{
    /// <summary>The repository root.</summary>
    public required string RepoRoot { get; init; }

    /// <summary>A cache folder for generated inputs (large slides), kept between runs.</summary>
    public required string CacheDir { get; init; }

    /// <summary>Fewer repetitions for a quick smoke run.</summary>
    public bool Quick { get; init; }

    /// <summary>Shared data (../shared/data).</summary>
    public string SharedData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="warmup"/> times unmeasured, then <paramref name="repetitions"/>
    /// times, and returns the median seconds of one run.
    /// </summary>
    public static double MedianSeconds(Action action, int warmup = 1, int repetitions = 5)
    {
        ArgumentNullException.ThrowIfNull(action);
        for (int i = 0; i < warmup; i++)
        {
            action();
        }

        var times = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }
}
