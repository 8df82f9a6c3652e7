using Histo.Color;

namespace Histo.Evaluation;

/// <summary>A two-sided confidence interval.</summary>
/// <param name="Low">Lower bound.</param>
/// <param name="High">Upper bound.</param>
/// <param name="Level">Coverage, e.g. 0.95.</param>
public readonly record struct ConfidenceInterval(double Low, double High, double Level);

/// <summary>Percentile bootstrap over items (resampled with replacement), seeded.</summary>
public static class Bootstrap
{
    /// <summary>
    /// The percentile interval of <paramref name="statistic"/> over <paramref name="resamples"/> resamples of the item
    /// indices 0..count-1. Resamples whose statistic is not finite are dropped.
    /// </summary>
    public static ConfidenceInterval Interval(
        int count, Func<IReadOnlyList<int>, double> statistic, int resamples = 1000, double level = 0.95, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resamples);
        if (level is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "level must be in (0, 1)");
        }

        var random = new SplitMix64(seed);
        var values = new List<double>(resamples);
        var indices = new int[count];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < count; i++)
            {
                indices[i] = random.NextInt(count);
            }

            double value = statistic(indices);
            if (double.IsFinite(value))
            {
                values.Add(value);
            }
        }

        if (values.Count == 0)
        {
            return new ConfidenceInterval(double.NaN, double.NaN, level);
        }

        values.Sort();
        double alpha = (1 - level) / 2;
        return new ConfidenceInterval(Quantile(values, alpha), Quantile(values, 1 - alpha), level);
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    private static double Quantile(List<double> sorted, double q)
    {
        double position = q * (sorted.Count - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }
}
