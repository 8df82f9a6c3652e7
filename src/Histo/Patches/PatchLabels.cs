using Histo.Maps;

namespace Histo.Patches;

/// <summary>How a patch's label is derived from the label-mask pixels under it.</summary>
public enum LabelRule
{
    /// <summary>
    /// The mean of the pixel codes, rounded half to even (as Python's round): the BACH seed's rule for the ordinal
    /// codes 0 Normal, 1 Benign, 2 InSitu, 3 Invasive.
    /// </summary>
    RoundedMean,

    /// <summary>The most frequent value (ties go to the smaller value): for class sets without an order.</summary>
    Majority,
}

/// <summary>A patch's label and how much of the patch is annotated.</summary>
/// <param name="Label">The label value (BACH code or class index).</param>
/// <param name="LabelFraction">Fraction (0..1) of the patch's label-mask pixels that are non-zero (annotated, i.e. not Normal / background).</param>
public readonly record struct PatchLabel(int Label, double LabelFraction);

/// <summary>
/// Labels patches from a label mask (<see cref="RasterMask"/> of BACH codes or class indices, with its level-0
/// geometry). The mask can come from a PNG (<see cref="RasterMask.Load"/>) or from rasterised annotations; this is the
/// only place patches meet labels.
/// </summary>
public static class PatchLabels
{
    /// <summary>
    /// The label of the level-0 square (<paramref name="level0X"/>, <paramref name="level0Y"/>, <paramref name="level0Size"/>),
    /// counted over the mask pixels whose centres fall inside it; null when it misses the mask.
    /// </summary>
    public static PatchLabel? Label(RasterMask labels, long level0X, long level0Y, long level0Size, LabelRule rule = LabelRule.RoundedMean)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long[] histogram = labels.Histogram(level0X, level0Y, level0Size, level0Size);
        return FromHistogram(histogram, rule);
    }

    /// <summary>The label of a patch for a 256-bin value histogram; null when the histogram is empty.</summary>
    public static PatchLabel? FromHistogram(ReadOnlySpan<long> histogram, LabelRule rule)
    {
        long total = 0, sum = 0, best = -1;
        int majority = 0;
        for (int v = 0; v < histogram.Length; v++)
        {
            long n = histogram[v];
            total += n;
            sum += v * n;
            if (n > best)
            {
                (best, majority) = (n, v);
            }
        }

        if (total == 0)
        {
            return null;
        }

        int label = rule == LabelRule.Majority
            ? majority
            : (int)Math.Round((double)sum / total, MidpointRounding.ToEven);
        return new PatchLabel(label, 1.0 - (double)histogram[0] / total);
    }
}
