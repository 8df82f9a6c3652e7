namespace Histo.Maps;

/// <summary>
/// How per-class probabilities become one class per map cell, and the seed's 0..1 intensity heatmap.
/// <para>
/// Intensity (DOMAIN.md, made explicit): the probability-weighted code divided by the largest code,
/// I = sum_k p_k * code_k / 3 for BACH codes (Normal 0, Benign 1, InSitu 2, Invasive 3), or sum_k p_k * k / (K-1)
/// by class index for other class sets. Threshold rule: the cell gets code k where t_k &lt;= I &lt; t_k+1
/// (the last threshold open-ended). Seed thresholds: 0 / 0.35 / 0.70 / 0.75. Default rule: argmax of the probabilities.
/// </para>
/// </summary>
public sealed class ClassMapRule
{
    /// <summary>The seed's hand-tuned thresholds.</summary>
    public static readonly IReadOnlyList<double> SeedThresholds = [0.0, 0.35, 0.70, 0.75];

    /// <summary>Argmax of the probabilities.</summary>
    public static ClassMapRule Argmax { get; } = new(null);

    /// <summary>Thresholds on the intensity, or null for argmax.</summary>
    public IReadOnlyList<double>? Thresholds { get; }

    private ClassMapRule(IReadOnlyList<double>? thresholds) => Thresholds = thresholds;

    /// <summary>The threshold rule; thresholds must start at 0 and not decrease, one per code.</summary>
    public static ClassMapRule WithThresholds(IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (thresholds.Count < 2 || thresholds[0] != 0 || thresholds.Zip(thresholds.Skip(1)).Any(p => p.Second < p.First) || thresholds.Any(t => t is < 0 or > 1 || double.IsNaN(t)))
        {
            throw new InvalidParameterException($"thresholds must start at 0, not decrease and lie in 0..1, got {string.Join(",", thresholds)}");
        }

        return new ClassMapRule(thresholds.ToArray());
    }

    /// <summary>The intensity (0..1) of one cell's probabilities given each class's ordinal code.</summary>
    public static double Intensity(ReadOnlySpan<float> probabilities, IReadOnlyList<int> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        int maxCode = codes.Max();
        if (maxCode <= 0)
        {
            return 0;
        }

        double sum = 0;
        for (int k = 0; k < probabilities.Length; k++)
        {
            sum += probabilities[k] * codes[k];
        }

        return Math.Clamp(sum / maxCode, 0, 1);
    }

    /// <summary>The code an intensity falls into under thresholds t: the largest k with t_k &lt;= value.</summary>
    public static int CodeForIntensity(double value, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        int code = 0;
        for (int k = 1; k < thresholds.Count; k++)
        {
            if (value >= thresholds[k])
            {
                code = k;
            }
        }

        return code;
    }

    /// <summary>
    /// The class index of one cell. For the threshold rule the code is mapped back to the class with that code
    /// (codes must be unique among classes for that; otherwise the most probable class with that code).
    /// </summary>
    public int Classify(ReadOnlySpan<float> probabilities, IReadOnlyList<int> codes)
    {
        if (Thresholds is null)
        {
            int best = 0;
            for (int k = 1; k < probabilities.Length; k++)
            {
                if (probabilities[k] > probabilities[best])
                {
                    best = k;
                }
            }

            return best;
        }

        int code = CodeForIntensity(Intensity(probabilities, codes), Thresholds);
        int chosen = -1;
        for (int k = 0; k < codes.Count; k++)
        {
            if (codes[k] == code && (chosen < 0 || probabilities[k] > probabilities[chosen]))
            {
                chosen = k;
            }
        }

        if (chosen >= 0)
        {
            return chosen;
        }

        // No class carries this code (e.g. IDC's two classes 0 and 3): take the class whose code is nearest below.
        int nearest = 0;
        for (int k = 0; k < codes.Count; k++)
        {
            if (codes[k] <= code && codes[k] >= codes[nearest])
            {
                nearest = k;
            }
        }

        return nearest;
    }
}
