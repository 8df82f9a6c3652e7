using System.Text.Json;
using Histo.IO;

namespace Histo.Datasets;

/// <summary>Item and class counts of one fold.</summary>
/// <param name="Fold">Fold index (0-based).</param>
/// <param name="ItemCount">Items in the fold.</param>
/// <param name="GroupCount">Distinct groups in the fold.</param>
/// <param name="CountsPerClass">Items per class, indexed like <see cref="Dataset.Classes"/>.</param>
public sealed record FoldSummary(int Fold, int ItemCount, int GroupCount, IReadOnlyList<int> CountsPerClass);

/// <summary>
/// A K-fold assignment of dataset items, keyed by item path, with the seed and fold count that made it. Saved as
/// JSON next to a model so that its cross-validation can be audited and repeated
/// (<see cref="Save"/>, <see cref="Load"/>).
/// </summary>
public sealed class CrossValidationSplit
{
    /// <summary>The <c>format</c> field of the JSON file.</summary>
    public const string FormatName = "histo-cv-split";

    /// <summary>The current JSON version.</summary>
    public const int FormatVersion = 1;

    /// <summary>Creates a split from a fold per item path.</summary>
    public CrossValidationSplit(int foldCount, int seed, bool grouped, IReadOnlyDictionary<string, int> foldByPath)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(foldCount, 2);
        ArgumentNullException.ThrowIfNull(foldByPath);
        foreach (var (path, fold) in foldByPath)
        {
            if ((uint)fold >= (uint)foldCount)
            {
                throw new ArgumentException($"{path}: fold {fold} outside 0..{foldCount - 1}", nameof(foldByPath));
            }
        }

        FoldCount = foldCount;
        Seed = seed;
        Grouped = grouped;
        FoldByPath = foldByPath;
    }

    /// <summary>Number of folds (K).</summary>
    public int FoldCount { get; }

    /// <summary>The seed the split was made with.</summary>
    public int Seed { get; }

    /// <summary>True for a grouped split (<see cref="GroupKFold.Split"/>), false for a naive per-item split.</summary>
    public bool Grouped { get; }

    /// <summary>The fold of each item, by full path.</summary>
    public IReadOnlyDictionary<string, int> FoldByPath { get; }

    /// <summary>
    /// The fold of every item of <paramref name="dataset"/>, indexed like its items. Throws
    /// <see cref="SplitFormatException"/> when an item is not in the split (a split made for another dataset).
    /// </summary>
    public int[] FoldsOf(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var folds = new int[dataset.Items.Count];
        int missing = 0;
        string? firstMissing = null;
        for (int i = 0; i < folds.Length; i++)
        {
            if (FoldByPath.TryGetValue(dataset.Items[i].Path, out int fold))
            {
                folds[i] = fold;
            }
            else
            {
                missing++;
                firstMissing ??= dataset.Items[i].Path;
            }
        }

        if (missing > 0)
        {
            throw new SplitFormatException($"the split does not cover {missing} of the dataset's {folds.Length} images (first: {firstMissing}); make a new split for this dataset");
        }

        return folds;
    }

    /// <summary>Item, group and class counts per fold.</summary>
    public IReadOnlyList<FoldSummary> Summarize(Dataset dataset)
    {
        int[] folds = FoldsOf(dataset);
        var result = new List<FoldSummary>(FoldCount);
        for (int f = 0; f < FoldCount; f++)
        {
            var counts = new int[dataset.Classes.Count];
            var groups = new HashSet<string>(StringComparer.Ordinal);
            int n = 0;
            for (int i = 0; i < folds.Length; i++)
            {
                if (folds[i] == f)
                {
                    n++;
                    counts[dataset.Items[i].LabelIndex]++;
                    groups.Add(dataset.Items[i].Group);
                }
            }

            result.Add(new FoldSummary(f, n, groups.Count, counts));
        }

        return result;
    }

    /// <summary>
    /// Warnings a user should see: folds without any image of a class (their per-class metrics are undefined).
    /// </summary>
    public IReadOnlyList<HistoWarning> Warnings(Dataset dataset)
    {
        var warnings = new List<HistoWarning>();
        foreach (var fold in Summarize(dataset))
        {
            for (int c = 0; c < fold.CountsPerClass.Count; c++)
            {
                if (fold.CountsPerClass[c] == 0)
                {
                    warnings.Add(new HistoWarning(WarningCode.FoldWithoutClass, $"fold {fold.Fold} has no image of class '{dataset.Classes[c].Name}'"));
                }
            }
        }

        return warnings;
    }

    /// <summary>The split as JSON; items carry their group and label (for audits) besides path and fold.</summary>
    public string ToJson(Dataset? dataset = null)
    {
        var byPath = dataset?.Items.ToDictionary(i => i.Path, StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", FormatVersion);
            w.WriteNumber("folds", FoldCount);
            w.WriteNumber("seed", Seed);
            w.WriteBoolean("grouped", Grouped);
            w.WriteStartArray("items");
            foreach (var (path, fold) in FoldByPath.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("path", path);
                w.WriteNumber("fold", fold);
                if (byPath != null && byPath.TryGetValue(path, out var item))
                {
                    w.WriteString("group", item.Group);
                    w.WriteString("label", dataset!.Classes[item.LabelIndex].Name);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the split as JSON atomically.</summary>
    public void Save(string path, Dataset? dataset = null) => AtomicFile.WriteAllText(path, ToJson(dataset));

    /// <summary>Reads a split saved by <see cref="Save"/>. Throws <see cref="SplitFormatException"/> when malformed.</summary>
    public static CrossValidationSplit Load(string path)
    {
        string text;
        try
        {
            text = IO.InputFile.ReadAllText(path, 256L << 20, "a split file");
        }
        catch (IO.InputFileException e)
        {
            throw new SplitFormatException($"{e.Message} (the split)", e);
        }

        return FromJson(text, path);
    }

    /// <summary>Parses split JSON; <paramref name="name"/> is used in error messages.</summary>
    public static CrossValidationSplit FromJson(string json, string name = "split")
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetString() != FormatName)
            {
                throw new SplitFormatException($"{name}: not a histo split file (no \"format\": \"{FormatName}\")");
            }

            int version = root.GetProperty("version").GetInt32();
            if (version != FormatVersion)
            {
                throw new SplitFormatException($"{name}: split format version {version} is not supported (this histo reads version {FormatVersion})");
            }

            int folds = root.GetProperty("folds").GetInt32();
            if (folds < 2)
            {
                throw new SplitFormatException($"{name}: \"folds\" must be 2 or more, got {folds}");
            }

            int seed = root.GetProperty("seed").GetInt32();
            bool grouped = root.TryGetProperty("grouped", out var g) && g.GetBoolean();
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var item in root.GetProperty("items").EnumerateArray())
            {
                string path = item.GetProperty("path").GetString() ?? throw new SplitFormatException($"{name}: an item has a null path");
                int fold = item.GetProperty("fold").GetInt32();
                if (fold < 0 || fold >= folds)
                {
                    throw new SplitFormatException($"{name}: {path} has fold {fold}, outside 0..{folds - 1}");
                }

                if (!map.TryAdd(path, fold))
                {
                    throw new SplitFormatException($"{name}: {path} is listed twice");
                }
            }

            return new CrossValidationSplit(folds, seed, grouped, map);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new SplitFormatException($"{name}: malformed split file ({IO.InputFile.ParserDetail(e.Message)})", e);
        }
    }
}
