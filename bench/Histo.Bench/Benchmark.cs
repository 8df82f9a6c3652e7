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

    /// <summary>False for long runs that happen only when named on the command line (<c>bench/run idc_cv</c>).</summary>
    bool RunsByDefault => true;

    /// <summary>Runs and returns one or more results.</summary>
    IEnumerable<BenchResult> Run(BenchContext context);
}

/// <summary>One row of the results table.</summary>
public sealed record BenchResult(string Name, double Histo, double Baseline, string Unit, string BaselineName, bool LowerIsBetter = false, string Notes = "")
{
    /// <summary>Above 1 means Histo is ahead of the baseline; NaN for a baseline-only row.</summary>
    public double Ratio => LowerIsBetter ? Baseline / Histo : Histo / Baseline;

    /// <summary>True when the row carries only the baseline's figure (Histo's side not measured yet).</summary>
    public bool IsBaselineOnly => double.IsNaN(Histo);

    /// <summary>A row with the baseline's figure only (Histo is NaN, written as null), until Histo's side exists.</summary>
    public static BenchResult BaselineOnly(string name, double baseline, string unit, string baselineName, string notes = "") =>
        new(name, double.NaN, baseline, unit, baselineName, Notes: notes);
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

    /// <summary>
    /// Shared data: the nearest shared/data folder beside the repository or beside one of its parents (../shared/data
    /// for a checkout, ../../shared/data for a worktree under wt/).
    /// </summary>
    public string SharedData
    {
        get
        {
            for (var dir = Directory.GetParent(RepoRoot); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        }
    }

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
