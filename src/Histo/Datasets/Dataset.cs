using Histo.Imaging;

namespace Histo.Datasets;

/// <summary>
/// Labelled images ready for cross-validation: each item knows its class, its group (patient or source image, the
/// unit that must never straddle folds) and its size. Made by <see cref="DatasetLoader"/>.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a dataset; <see cref="DatasetLoader"/> is the usual way.</summary>
    public Dataset(IReadOnlyList<DatasetItem> items, IReadOnlyList<DatasetClass> classes, IReadOnlyList<DatasetSource> sources,
        IReadOnlyList<DatasetProblem> problems, SizePolicy sizePolicy)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(problems);
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
