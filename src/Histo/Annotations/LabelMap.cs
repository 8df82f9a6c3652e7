using System.Globalization;
using System.Text;
using System.Text.Json;
using Histo.Bach;

namespace Histo.Annotations;

/// <summary>
/// Resolves annotation label texts to class codes. The default (<see cref="Bach"/>) is the BACH substring rule
/// (<see cref="BachClasses.CodesMatching"/>: 'ormal' → Normal 0, 'nign' → Benign 1, 'situ' → InSitu 2, 'vasive' →
/// Invasive 3, ignoring case); a text matching none, or more than one, is unknown. A user map (<see cref="Parse"/>) replaces the substrings: each of
/// its keys matches a whole label text (case-insensitive, surrounding and repeated white space ignored).
/// </summary>
public sealed class LabelMap
{
    private const int MaxFileBytes = 1 << 20;

    private readonly Dictionary<string, int>? _exact;

    private LabelMap(IReadOnlyList<string> classNames, Dictionary<string, int>? exact, string description)
    {
        ClassNames = classNames;
        _exact = exact;
        Description = description;
    }

    /// <summary>The BACH substring map over the classes Normal, Benign, InSitu, Invasive.</summary>
    public static LabelMap Bach { get; } = new(BachClasses.Names, null, "BACH substrings ('ormal', 'nign', 'situ', 'vasive')");

    /// <summary>Class names, index = class code.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>One line describing the map, for reports.</summary>
    public string Description { get; }

    /// <summary>The class code of a label text, or null when the map does not know it.</summary>
    public int? Resolve(string? label)
    {
        string text = Normalize(label);
        if (_exact != null)
        {
            return _exact.TryGetValue(text, out int code) ? code : null;
        }

        var codes = BachClasses.CodesMatching(text);
        return codes.Count == 1 ? codes[0] : null; // more than one is ambiguous: let the user decide with a label map
    }

    /// <summary>The name of a class code, or the code as text when it has no name.</summary>
    public string ClassName(int code) => code >= 0 && code < ClassNames.Count ? ClassNames[code] : code.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a user label map: either inline <c>Tumor=Invasive,Other=Normal</c> (keys are label texts, values class
    /// names or codes) or the path of a JSON file holding one object <c>{"Tumor": "Invasive", "Other": 0}</c>.
    /// Class names are matched ignoring case, spaces, '-' and '_' (so "In situ" names InSitu).
    /// </summary>
    /// <param name="spec">The inline map or a JSON file path.</param>
    /// <param name="classNames">The classes values may name; BACH's by default.</param>
    /// <exception cref="LabelMapException">Unreadable file, bad syntax, duplicate key or unknown class.</exception>
    public static LabelMap Parse(string spec, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        classNames ??= BachClasses.Names;
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new LabelMapException("empty label map; give e.g. Tumor=Invasive,Other=Normal or a JSON file");
        }

        bool looksLikeFile = spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || (!spec.Contains('=', StringComparison.Ordinal) && File.Exists(spec));
        var entries = looksLikeFile ? ReadJsonFile(spec) : ParseInline(spec);
        var exact = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in entries)
        {
            string label = Normalize(key);
            if (label.Length == 0)
            {
                throw new LabelMapException($"label map: empty label text in '{key}={value}'");
            }

            int code = ResolveClass(value, classNames);
            if (!exact.TryAdd(label, code))
            {
                throw new LabelMapException($"label map: label '{label}' is mapped twice");
            }
        }

        if (exact.Count == 0)
        {
            throw new LabelMapException("label map has no entries");
        }

        string description = "label map " + string.Join(", ", exact.Select(kv => $"{kv.Key}={classNames[kv.Value]}"));
        return new LabelMap(classNames, exact, description);
    }

    private static List<(string Key, string Value)> ParseInline(string spec)
    {
        var entries = new List<(string, string)>();
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.LastIndexOf('=');
            if (eq <= 0 || eq == part.Length - 1)
            {
                throw new LabelMapException($"label map: '{part}' is not LABEL=CLASS (e.g. Tumor=Invasive)");
            }

            entries.Add((part[..eq], part[(eq + 1)..]));
        }

        return entries;
    }

    private static List<(string Key, string Value)> ReadJsonFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new LabelMapException($"label map file {path} not found");
        }

        byte[] bytes;
        try
        {
            bytes = IO.InputFile.Utf8Bytes(IO.InputFile.ReadAllBytes(path, MaxFileBytes, "a label map file"), out _);
        }
        catch (IO.InputFileException e)
        {
            throw new LabelMapException(e.Message);
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new LabelMapException($"label map file {path} must hold one JSON object {{\"label\": \"Class\", ...}}");
            }

            var entries = new List<(string, string)>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                string value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString() ?? "",
                    JsonValueKind.Number => p.Value.GetRawText(),
                    _ => throw new LabelMapException($"label map file {path}: the class of '{p.Name}' must be a name or a code"),
                };
                entries.Add((p.Name, value));
            }

            return entries;
        }
        catch (JsonException e)
        {
            throw new LabelMapException($"label map file {path} is not valid JSON ({IO.InputFile.ParserDetail(e.Message)})", e);
        }
        catch (IOException e)
        {
            throw new LabelMapException($"label map file {path} cannot be read ({e.Message})", e);
        }
    }

    private static int ResolveClass(string value, IReadOnlyList<string> classNames)
    {
        string v = value.Trim();
        if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int code))
        {
            if (code < 0 || code >= classNames.Count)
            {
                throw new LabelMapException($"label map: class code {code} is out of range 0..{classNames.Count - 1}");
            }

            return code;
        }

        string key = Squash(v);
        for (int i = 0; i < classNames.Count; i++)
        {
            if (Squash(classNames[i]) == key)
            {
                return i;
            }
        }

        throw new LabelMapException($"label map: unknown class '{v}' (classes: {string.Join(", ", classNames)}, or their codes)");
    }

    private static string Squash(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (char.IsLetterOrDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
        }

        return sb.ToString();
    }

    private static string Normalize(string? label) =>
        string.Join(' ', (label ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
