using System.Globalization;
using Histo.Imaging;

namespace Histo.Datasets;

/// <summary>
/// Labelled images ready for cross-validation: each item knows its class, its group (patient or source image, the
/// unit that must never straddle folds) and its size. Made by <see cref="DatasetLoader"/>.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a dataset; <see cref="DatasetLoader"/> is the usual way.</summary>
    /// <param name="items">The labelled images.</param>
    /// <param name="classes">The classes.</param>
    /// <param name="sources">The given paths.</param>
    /// <param name="problems">Notes about files.</param>
    /// <param name="sizePolicy">What <see cref="LoadImage"/> does with smaller images.</param>
    /// <param name="mpp">The dataset's µm/px; null exactly when <paramref name="mppSource"/> is Unknown or Mixed.</param>
    /// <param name="mppSource">Where <paramref name="mpp"/> comes from.</param>
    public Dataset(IReadOnlyList<DatasetItem> items, IReadOnlyList<DatasetClass> classes, IReadOnlyList<DatasetSource> sources,
        IReadOnlyList<DatasetProblem> problems, SizePolicy sizePolicy, double? mpp, DatasetMppSource mppSource)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(problems);
        if (mpp is { } m && !(m > 0 && double.IsFinite(m)))
        {
            throw new ArgumentOutOfRangeException(nameof(mpp), m, "µm/px must be positive");
        }

        if ((mpp is null) != (mppSource is DatasetMppSource.Unknown or DatasetMppSource.Mixed))
        {
            throw new ArgumentException($"a µm/px of {mpp?.ToString(CultureInfo.InvariantCulture) ?? "null"} does not go with source {mppSource}", nameof(mppSource));
        }

        var counts = new int[classes.Count];
        foreach (var item in items)
        {
            if ((uint)item.LabelIndex >= (uint)classes.Count)
            {
                throw new ArgumentException($"{item.Path}: label index {item.LabelIndex} outside the {classes.Count} classes", nameof(items));
            }

            if ((uint)item.SourceIndex >= (uint)sources.Count)
            {
                throw new ArgumentException($"{item.Path}: source index {item.SourceIndex} outside the {sources.Count} sources", nameof(items));
            }

            counts[item.LabelIndex]++;
        }

        Items = items;
        Classes = classes;
        Sources = sources;
        Problems = problems;
        SizePolicy = sizePolicy;
        Mpp = mpp;
        MppSource = mppSource;
        CountsPerClass = counts;
        Groups = items.Select(i => i.Group).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The labelled images, in a stable order (by source, then path).</summary>
    public IReadOnlyList<DatasetItem> Items { get; }

    /// <summary>The classes; <see cref="DatasetItem.LabelIndex"/> indexes this list.</summary>
    public IReadOnlyList<DatasetClass> Classes { get; }

    /// <summary>The given paths and how each was understood.</summary>
    public IReadOnlyList<DatasetSource> Sources { get; }

    /// <summary>Files skipped or handled specially, with the reason.</summary>
    public IReadOnlyList<DatasetProblem> Problems { get; }

    /// <summary>What <see cref="LoadImage"/> does with images smaller than their source's usual size.</summary>
    public SizePolicy SizePolicy { get; }

    /// <summary>
    /// The dataset's scale in microns per pixel: the user's override, else the median of what the images record (their
    /// scales lie within 10 % of each other), or null when unknown or mixed (see <see cref="MppSource"/>).
    /// </summary>
    public double? Mpp { get; }

    /// <summary>Where <see cref="Mpp"/> comes from.</summary>
    public DatasetMppSource MppSource { get; }

    /// <summary>
    /// One line about the images whose µm/px is missing or differs from <see cref="Mpp"/> (how many, and the first
    /// few paths), or null when every image records the dataset's scale (or none records any).
    /// </summary>
    public HistoWarning? MppWarning
    {
        get
        {
            var inv = CultureInfo.InvariantCulture;
            var parts = new List<string>();
            var missing = Problems.Where(p => p.Kind == DatasetProblemKind.MissingMpp).ToList();
            if (missing.Count > 0)
            {
                parts.Add(string.Create(inv, $"{missing.Count:N0} of {Items.Count:N0} images record no µm/px ({FirstPaths(missing)}): {Mpp:0.###} µm/px assumed for them"));
            }

            var different = Problems.Where(p => p.Kind == DatasetProblemKind.DifferentMpp).ToList();
            if (different.Count > 0)
            {
                parts.Add(string.Create(inv, $"{different.Count:N0} images record a µm/px more than 1 % off the dataset's {Mpp:0.###} ({FirstPaths(different)}): used at {Mpp:0.###}"));
            }

            return parts.Count == 0 ? null : new HistoWarning(WarningCode.DatasetScale, string.Join("; ", parts));
        }
    }

    /// <summary>Number of items per class, indexed like <see cref="Classes"/>.</summary>
    public IReadOnlyList<int> CountsPerClass { get; }

    /// <summary>The distinct groups, sorted.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>Index of the class named <paramref name="name"/> (ignoring case), or -1.</summary>
    public int IndexOfClass(string name)
    {
        for (int i = 0; i < Classes.Count; i++)
        {
            if (string.Equals(Classes[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first three problems' paths, relative to the given path they came from where possible.</summary>
    private string FirstPaths(IReadOnlyList<DatasetProblem> problems)
    {
        var shown = problems.Take(3).Select(p => ShortPath(p.Path)).ToList();
        return string.Join(", ", shown) + (problems.Count > shown.Count ? ", ..." : "");
    }

    private string ShortPath(string path)
    {
        foreach (var source in Sources)
        {
            string root = File.Exists(source.Path) ? Path.GetDirectoryName(source.Path) ?? source.Path : source.Path;
            string relative = Path.GetRelativePath(root, path);
            if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
            {
                return relative;
            }
        }

        return path;
    }

    /// <summary>The usual (most common) size of the item's source, which <see cref="LoadImage"/> brings smaller images to.</summary>
    public (int WidthPixels, int HeightPixels) UsualSizeOf(DatasetItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var source = Sources[item.SourceIndex];
        return (source.UsualWidthPixels, source.UsualHeightPixels);
    }

    /// <summary>True when the item is narrower or shorter than its source's usual size (a border cut).</summary>
    public bool IsSmallerThanUsual(DatasetItem item)
    {
        var (w, h) = UsualSizeOf(item);
        return item.WidthPixels < w || item.HeightPixels < h;
    }

    /// <summary>
    /// Decodes the item's image; an image smaller than usual is padded or resized to the usual size following
    /// <see cref="SizePolicy"/>. Other images are returned at their own size.
    /// </summary>
    public RgbaImage LoadImage(DatasetItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var image = ImageIO.Load(item.Path);
        if (!IsSmallerThanUsual(item) || SizePolicy == SizePolicy.Skip)
        {
            return image;
        }

        var (w, h) = UsualSizeOf(item);
        return PatchSizing.Apply(image, w, h, SizePolicy);
    }
}
