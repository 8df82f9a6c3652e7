using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Histo.Bach;
using Histo.IO;

namespace Histo.Models;

/// <summary>
/// What a trained model is and how to use it: its classes (and their BACH codes where they apply), the patch it
/// expects (size, µm/px), preprocessing and stain normalisation, tuned heatmap thresholds, and how it was trained.
/// Stored as <c>model.json</c> in a model directory beside the weights.
/// </summary>
public sealed class ModelCard
{
    /// <summary>File name of the card inside a model directory.</summary>
    public const string FileName = "model.json";

    /// <summary>Card format; a model directory written by an incompatible Histo is rejected.</summary>
    public const int CurrentFormatVersion = 1;

    [JsonPropertyName("format_version")] public int FormatVersion { get; set; } = CurrentFormatVersion;
    [JsonPropertyName("software_version")] public string SoftwareVersion { get; set; } = typeof(ModelCard).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "resnet18-2223";
    [JsonPropertyName("classes")] public List<string> Classes { get; set; } = [];

    /// <summary>
    /// Names of the classes for people, in class order (e.g. from <c>histo train --class-names</c>), or null to derive
    /// them (see <see cref="DisplayClassNames"/>). <see cref="Classes"/> stays the labels as the data spells them.
    /// </summary>
    [JsonPropertyName("class_names")] public List<string>? ClassNames { get; set; }

    /// <summary>BACH code (0 Normal, 1 Benign, 2 InSitu, 3 Invasive) per class, or null when the classes are not BACH-like.</summary>
    [JsonPropertyName("bach_codes")] public List<int>? BachCodes { get; set; }

    /// <summary>Side of the square patch cut from the slide, in pixels at <see cref="Mpp"/>.</summary>
    [JsonPropertyName("patch_size_pixels")] public int PatchSizePixels { get; set; }

    /// <summary>
    /// Stride, in patch pixels, of the sliding window that cuts images larger than one patch (the training crops), or
    /// null for the edge-to-edge grid of <c>ImageTiling.Origins</c>. Image-level prediction then averages over the
    /// same crops that cross-validation scored.
    /// </summary>
    [JsonPropertyName("crop_stride_pixels")] public double? CropStridePixels { get; set; }

    /// <summary>Side of the network input in pixels (the patch is resized to it).</summary>
    [JsonPropertyName("input_size_pixels")] public int InputSizePixels { get; set; }

    /// <summary>Microns per pixel of the training patches, or null when unknown.</summary>
    [JsonPropertyName("mpp")] public double? Mpp { get; set; }

    /// <summary>Stain normalisation applied before the network: "none", "reinhard" or "macenko".</summary>
    [JsonPropertyName("stain_normalization")] public string StainNormalization { get; set; } = "none";

    /// <summary>Parameters of the stain normaliser fitted on the target (method-specific).</summary>
    [JsonPropertyName("stain_target")] public JsonNode? StainTarget { get; set; }

    /// <summary>Heatmap thresholds t_0..t_3 on the intensity (0..1): class k where t_k &lt;= value &lt; t_k+1.</summary>
    [JsonPropertyName("thresholds")] public List<double>? Thresholds { get; set; }

    /// <summary>Training data, recipe, split and metrics; free-form for the trainer.</summary>
    [JsonPropertyName("training")] public JsonNode? Training { get; set; }

    /// <summary>Terms of use of the weights (e.g. the licence of the training data).</summary>
    [JsonPropertyName("terms")] public string? Terms { get; set; }

    /// <summary>Fields written by a newer Histo, kept on rewrite.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// The class names every output shows (maps, legends, summaries, tables, GeoJSON): <see cref="ClassNames"/> when
    /// set, else the names of a known labelling scheme (IDC "0"/"1" are "non-IDC tissue"/"IDC"), else the labels.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string> DisplayClassNames =>
        ClassNames is { } names && names.Count == Classes.Count ? names : Datasets.NamingSchemes.DisplayNamesOf(Classes) ?? Classes;

    /// <summary>
    /// Class names for labels: each label's name from <paramref name="names"/> (label → name), else its known
    /// scheme's name, else the label itself.
    /// </summary>
    /// <exception cref="InvalidParameterException">A label that is not a class, an empty name, or two classes with one name.</exception>
    public static List<string> NamesFor(IReadOnlyList<string> labels, IReadOnlyDictionary<string, string> names)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(names);
        foreach (var (label, name) in names)
        {
            if (!labels.Contains(label, StringComparer.Ordinal))
            {
                throw new InvalidParameterException($"class names: '{label}' is not a class of the data (its classes are {string.Join(", ", labels)})");
            }

            if (string.IsNullOrWhiteSpace(name))
            {
                throw new InvalidParameterException($"class names: the name of '{label}' is empty");
            }
        }

        var known = Datasets.NamingSchemes.DisplayNamesOf(labels);
        var result = labels.Select((label, i) => names.TryGetValue(label, out var n) ? n.Trim() : known?[i] ?? label).ToList();
        if (result.Distinct(StringComparer.OrdinalIgnoreCase).Count() != result.Count)
        {
            throw new InvalidParameterException($"class names: two classes would share a name ({string.Join(", ", result)})");
        }

        return result;
    }

    /// <summary>True when the classes carry BACH codes, so a BACH 0..3 map can be derived.</summary>
    [JsonIgnore] public bool HasBachCodes => BachCodes is { } codes && codes.Count == Classes.Count;

    /// <summary>Reads <c>model.json</c> from a model directory and checks it.</summary>
    public static ModelCard Load(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, FileName);
        if (!Directory.Exists(modelDirectory))
        {
            throw new HistoException($"{modelDirectory}: model directory not found");
        }

        if (!File.Exists(path))
        {
            throw new HistoException($"{modelDirectory}: not a Histo model directory (no {FileName})");
        }

        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(InputFile.ReadAllText(path, MaxFileBytes, "a model card"), Options);
        }
        catch (JsonException e)
        {
            throw new HistoException($"{path}: malformed model card ({InputFile.ParserDetail(e.Message)})", e);
        }

        if (card == null)
        {
            throw new HistoException($"{path}: empty model card");
        }

        if (card.FormatVersion != CurrentFormatVersion)
        {
            throw new HistoException($"{path}: model format {card.FormatVersion} is not supported by this Histo (expects {CurrentFormatVersion}); retrain or use the matching Histo version");
        }

        if (card.Problem() is { } problem)
        {
            throw new HistoException($"{path}: invalid model card: {problem}");
        }

        return card;
    }

    /// <summary>Largest model card read (the training record included), 64 MiB.</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>Accepted network input sides, in pixels (what training accepts).</summary>
    public const int MinInputSizePixels = 32, MaxInputSizePixels = 1024;

    /// <summary>Largest patch side, in pixels: a patch is one slide read of at most 2^28 pixels.</summary>
    public const int MaxPatchSizePixels = 16384;

    /// <summary>Accepted µm/px of a model's patches: from a 100x objective to a coarse overview.</summary>
    public const double MinMpp = 0.01, MaxMpp = 100;

    /// <summary>Most classes a card may list.</summary>
    public const int MaxClasses = 1000;

    /// <summary>
    /// The first thing wrong with the card, or null when it can be used: at least two unique, non-empty class names
    /// without control characters; BACH codes (one per class, each 0..3) or none; patch and input sizes and µm/px
    /// within their ranges; a known stain normalisation; thresholds that start at 0, do not decrease, lie in 0..1
    /// and number one per code.
    /// </summary>
    public string? Problem()
    {
        var inv = CultureInfo.InvariantCulture;
        if (Classes is null || Classes.Count < 2)
        {
            return "it must list at least two classes";
        }

        if (Classes.Count > MaxClasses)
        {
            return string.Create(inv, $"{Classes.Count} classes, more than the {MaxClasses} a card may list");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < Classes.Count; i++)
        {
            string? name = Classes[i];
            if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl))
            {
                return string.Create(inv, $"class {i} has an empty name or one with control characters");
            }

            if (!seen.Add(name))
            {
                return $"class '{name}' is listed twice";
            }
        }

        if (BachCodes is { } codes)
        {
            if (codes.Count != Classes.Count)
            {
                return string.Create(inv, $"{codes.Count} bach_codes for {Classes.Count} classes");
            }

            if (codes.FindIndex(c => c is < 0 or > 3) is int bad and >= 0)
            {
                return string.Create(inv, $"bach_codes[{bad}] is {codes[bad]}, not a BACH code (0 Normal, 1 Benign, 2 InSitu, 3 Invasive)");
            }
        }

        if (PatchSizePixels is < 1 or > MaxPatchSizePixels)
        {
            return string.Create(inv, $"patch_size_pixels is {PatchSizePixels}, not 1..{MaxPatchSizePixels}");
        }

        if (InputSizePixels is < MinInputSizePixels or > MaxInputSizePixels)
        {
            return string.Create(inv, $"input_size_pixels is {InputSizePixels}, not {MinInputSizePixels}..{MaxInputSizePixels}");
        }

        if (CropStridePixels is { } stride && !(stride >= 1 && stride <= MaxPatchSizePixels))
        {
            return string.Create(inv, $"crop_stride_pixels is {stride}, not 1..{MaxPatchSizePixels}");
        }

        if (Mpp is { } mpp && !(mpp >= MinMpp && mpp <= MaxMpp))
        {
            return string.Create(inv, $"mpp is {mpp}, not {MinMpp}..{MaxMpp} µm/px");
        }

        if (StainNormalization?.ToLowerInvariant() is not ("none" or "reinhard" or "macenko"))
        {
            return $"stain_normalization is '{StainNormalization}', not none, reinhard or macenko";
        }

        if (Thresholds is { Count: > 0 } t)
        {
            int needed = (HasBachCodes ? BachCodes!.Max() : Classes.Count - 1) + 1;
            if (t.Count != needed || t[0] != 0 || t.Any(v => !(v >= 0 && v <= 1)) || t.Zip(t.Skip(1)).Any(p => p.Second < p.First))
            {
                return string.Create(inv, $"thresholds [{string.Join(", ", t)}] must be {needed} values in 0..1 that start at 0 and do not decrease");
            }
        }

        return null;
    }

    /// <summary>Writes the card into a directory atomically.</summary>
    public void Save(string modelDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(modelDirectory, FileName), JsonSerializer.Serialize(this, Options));

    /// <summary>Default BACH codes for class names: by the BACH substring rule (<see cref="BachClasses.FirstCodeMatching"/>), or IDC's "0"/"1" (1 = invasive carcinoma).</summary>
    public static List<int>? InferBachCodes(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var codes = new List<int>();
        foreach (string name in classes)
        {
            codes.Add(BachClasses.FirstCodeMatching(name) ?? -1);
        }

        if (codes.All(c => c >= 0) && codes.Distinct().Count() == codes.Count)
        {
            return codes;
        }

        if (classes.Count == 2 && classes.Contains("0") && classes.Contains("1"))
        {
            return classes.Select(c => c == "1" ? 3 : 0).ToList();
        }

        return null;
    }
}
