using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
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
            card = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new HistoException($"{path}: malformed model card ({e.Message})", e);
        }

        if (card == null)
        {
            throw new HistoException($"{path}: empty model card");
        }

        if (card.FormatVersion != CurrentFormatVersion)
        {
            throw new HistoException($"{path}: model format {card.FormatVersion} is not supported by this Histo (expects {CurrentFormatVersion}); retrain or use the matching Histo version");
        }

        if (card.Classes.Count < 2 || card.PatchSizePixels <= 0 || card.InputSizePixels <= 0)
        {
            throw new HistoException($"{path}: model card lacks classes, patch size or input size");
        }

        return card;
    }

    /// <summary>Writes the card into a directory atomically.</summary>
    public void Save(string modelDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(modelDirectory, FileName), JsonSerializer.Serialize(this, Options));

    /// <summary>Default BACH codes for class names: by BACH name, or IDC's "0"/"1" (1 = invasive carcinoma).</summary>
    public static List<int>? InferBachCodes(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var codes = new List<int>();
        foreach (string name in classes)
        {
            string n = name.ToLowerInvariant();
            int code = n switch
            {
                _ when n.Contains("ormal", StringComparison.Ordinal) => 0,
                _ when n.Contains("nign", StringComparison.Ordinal) => 1,
                _ when n.Contains("situ", StringComparison.Ordinal) => 2,
                _ when n.Contains("vasive", StringComparison.Ordinal) => 3,
                _ => -1,
            };
            codes.Add(code);
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
