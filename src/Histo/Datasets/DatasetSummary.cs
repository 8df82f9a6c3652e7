namespace Histo.Datasets;

/// <summary>How many images share one size.</summary>
/// <param name="WidthPixels">Width.</param>
/// <param name="HeightPixels">Height.</param>
/// <param name="Count">Images of that size.</param>
public sealed record SizeCount(int WidthPixels, int HeightPixels, int Count);

/// <summary>The figures <c>histo dataset</c> prints: classes, groups, image sizes, scale and problems.</summary>
public sealed class DatasetSummary
{
    private DatasetSummary() { }

    /// <summary>Number of images.</summary>
    public int ImageCount { get; private init; }

    /// <summary>Number of distinct groups.</summary>
    public int GroupCount { get; private init; }

    /// <summary>Groups of each kind (patients, manifest groups, source images).</summary>
    public IReadOnlyDictionary<GroupKind, int> GroupCountsByKind { get; private init; } = new Dictionary<GroupKind, int>();

    /// <summary>Fewest images in one group.</summary>
    public int MinImagesPerGroup { get; private init; }

    /// <summary>Median images per group.</summary>
    public double MedianImagesPerGroup { get; private init; }

    /// <summary>Most images in one group.</summary>
    public int MaxImagesPerGroup { get; private init; }

    /// <summary>Image sizes, most common first.</summary>
    public IReadOnlyList<SizeCount> Sizes { get; private init; } = [];

    /// <summary>Images whose file records a µm/px (see <see cref="Dataset.Mpp"/> for the dataset's scale).</summary>
    public int ImagesWithMpp { get; private init; }

    /// <summary>The smallest and largest recorded µm/px, or null when no image records one.</summary>
    public (double Min, double Max)? RecordedMppRange { get; private init; }

    /// <summary>Problems of each kind.</summary>
    public IReadOnlyDictionary<DatasetProblemKind, int> ProblemCounts { get; private init; } = new Dictionary<DatasetProblemKind, int>();

    /// <summary>Computes the summary.</summary>
    public static DatasetSummary Of(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var perGroup = dataset.Items.GroupBy(i => i.Group, StringComparer.Ordinal).Select(g => (Kind: g.First().GroupKind, Count: g.Count())).ToList();
        var counts = perGroup.Select(g => g.Count).Order().ToArray();
        double[] recorded = [.. dataset.Items.Select(i => i.Mpp).OfType<double>()];
        double median = counts.Length == 0 ? 0
            : counts.Length % 2 == 1 ? counts[counts.Length / 2]
            : (counts[counts.Length / 2 - 1] + counts[counts.Length / 2]) / 2.0;
        return new DatasetSummary
        {
            ImageCount = dataset.Items.Count,
            GroupCount = perGroup.Count,
            GroupCountsByKind = perGroup.GroupBy(g => g.Kind).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            MinImagesPerGroup = counts.Length == 0 ? 0 : counts[0],
            MedianImagesPerGroup = median,
            MaxImagesPerGroup = counts.Length == 0 ? 0 : counts[^1],
            Sizes = dataset.Items.GroupBy(i => (i.WidthPixels, i.HeightPixels))
                .Select(g => new SizeCount(g.Key.WidthPixels, g.Key.HeightPixels, g.Count()))
                .OrderByDescending(s => s.Count).ThenByDescending(s => s.WidthPixels).ThenByDescending(s => s.HeightPixels)
                .ToArray(),
            ImagesWithMpp = recorded.Length,
            RecordedMppRange = recorded.Length == 0 ? null : (recorded.Min(), recorded.Max()),
            ProblemCounts = dataset.Problems.GroupBy(p => p.Kind).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
        };
    }
}
