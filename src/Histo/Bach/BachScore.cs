using Histo.Maps;
using Histo.Scoring;

namespace Histo.Bach;

/// <summary>
/// The BACH Part B score of a prediction map against a ground-truth map, both in BACH codes 0..3, with the
/// confusion counts and per-class Dice. Over all pixels i, with bin(x) = x &gt; 0:
/// s = 1 - Σ|pred_i - gt_i| / Σ max(|gt_i - 0|, |gt_i - 3|) · [1 - (1 - bin(pred_i)) (1 - bin(gt_i))];
/// pixels where both maps say Normal count in neither sum.
/// <para>
/// When both maps are Normal everywhere the score is 0/0: it is reported as undefined (<see cref="Score"/> null)
/// rather than 1, so that a slide with nothing to find neither rewards nor penalises a method, and averages over
/// slides skip it (pool slides with <see cref="Combine"/>, which sums numerators and denominators). A class absent
/// from both maps likewise has Dice null.
/// </para>
/// </summary>
public sealed class BachScore
{
    /// <summary>Number of BACH classes.</summary>
    public const int ClassCount = BachClasses.Count;

    private readonly long[] _confusion;

    private BachScore(long[] confusion) => _confusion = confusion;

    /// <summary>Σ |pred - gt| over all pixels (the numerator).</summary>
    public long ErrorSum
    {
        get
        {
            long sum = 0;
            for (int g = 0; g < ClassCount; g++)
            {
                for (int p = 0; p < ClassCount; p++)
                {
                    sum += Confusion(g, p) * Math.Abs(p - g);
                }
            }

            return sum;
        }
    }

    /// <summary>Σ max(gt, 3 - gt) over pixels where not both maps are Normal (the denominator).</summary>
    public long WeightSum
    {
        get
        {
            long sum = 0;
            for (int g = 0; g < ClassCount; g++)
            {
                for (int p = 0; p < ClassCount; p++)
                {
                    if (g != 0 || p != 0)
                    {
                        sum += Confusion(g, p) * Math.Max(g, 3 - g);
                    }
                }
            }

            return sum;
        }
    }

    /// <summary>The score, at most 1 (perfect); null when both maps are all Normal (see the class remarks).</summary>
    public double? Score => WeightSum == 0 ? null : 1.0 - ((double)ErrorSum / WeightSum);

    /// <summary>Pixels compared.</summary>
    public long PixelCount => _confusion.Sum();

    /// <summary>Pixels whose truth is <paramref name="truth"/> and prediction <paramref name="prediction"/>.</summary>
    public long Confusion(int truth, int prediction) => _confusion[(truth * ClassCount) + prediction];

    /// <summary>Pixels the truth puts in class <paramref name="code"/>.</summary>
    public long TruthCount(int code) => Enumerable.Range(0, ClassCount).Sum(p => Confusion(code, p));

    /// <summary>Pixels the prediction puts in class <paramref name="code"/>.</summary>
    public long PredictionCount(int code) => Enumerable.Range(0, ClassCount).Sum(g => Confusion(g, code));

    /// <summary>Dice of class <paramref name="code"/>: 2 |P ∩ G| / (|P| + |G|); null when the class is in neither map.</summary>
    public double? Dice(int code)
    {
        long both = TruthCount(code) + PredictionCount(code);
        return both == 0 ? null : 2.0 * Confusion(code, code) / both;
    }

    /// <summary>Fraction of pixels where the maps agree.</summary>
    public double Accuracy => PixelCount == 0 ? 0 : (double)Enumerable.Range(0, ClassCount).Sum(c => Confusion(c, c)) / PixelCount;

    /// <summary>Scores two maps of equal length (row-major pixels, values 0..3).</summary>
    /// <exception cref="ScoringException">Lengths differ, or a value is not a BACH code 0..3.</exception>
    public static BachScore Compute(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth) => Compute(prediction, truth, 0);

    private static BachScore Compute(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth, int width)
    {
        if (prediction.Length != truth.Length)
        {
            throw new ScoringException($"prediction ({prediction.Length} px) and truth ({truth.Length} px) differ in size");
        }

        var confusion = new long[ClassCount * ClassCount];
        for (int i = 0; i < prediction.Length; i++)
        {
            int p = prediction[i], g = truth[i];
            if ((p | g) > 3)
            {
                string where = width > 0 ? $"pixel ({i % width}, {i / width})" : $"pixel {i}";
                throw new ScoringException(p > 3
                    ? $"prediction {where} holds {p}, not a BACH code 0..3 (was a class map passed instead of bach.png?)"
                    : $"truth {where} holds {g}, not a BACH code 0..3 (0 Normal, 1 Benign, 2 InSitu, 3 Invasive)");
            }

            confusion[(g << 2) | p]++;
        }

        return new BachScore(confusion);
    }

    /// <summary>Scores two masks of the same size.</summary>
    /// <exception cref="ScoringException">Sizes differ, or a value is not a BACH code 0..3.</exception>
    public static BachScore Compute(RasterMask prediction, RasterMask truth)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(truth);
        if (prediction.Width != truth.Width || prediction.Height != truth.Height)
        {
            throw new ScoringException($"prediction {prediction.Width}x{prediction.Height} and truth {truth.Width}x{truth.Height} differ in size");
        }

        return Compute(prediction.Pixels, truth.Pixels, prediction.Width);
    }

    /// <summary>Pools several slides: confusion counts (hence numerators and denominators) are summed.</summary>
    public static BachScore Combine(IEnumerable<BachScore> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var confusion = new long[ClassCount * ClassCount];
        foreach (var s in scores)
        {
            for (int i = 0; i < confusion.Length; i++)
            {
                confusion[i] += s._confusion[i];
            }
        }

        return new BachScore(confusion);
    }

    /// <summary>The class names, index = code.</summary>
    public static IReadOnlyList<string> ClassNames => BachClasses.Names;
}
