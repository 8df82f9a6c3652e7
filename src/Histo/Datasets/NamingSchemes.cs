using System.Globalization;
using System.Text.RegularExpressions;

namespace Histo.Datasets;

/// <summary>What an IDC patch file name says.</summary>
/// <param name="PatientId">Patient (and whole-slide image) id, e.g. <c>10253</c>.</param>
/// <param name="Level0X">Patch left edge in the (downsampled) source image, pixels.</param>
/// <param name="Level0Y">Patch top edge, pixels.</param>
/// <param name="ClassLabel">0 = not invasive ductal carcinoma, 1 = IDC.</param>
public sealed record IdcName(string PatientId, int Level0X, int Level0Y, int ClassLabel);

/// <summary>What a BreakHis file name says.</summary>
/// <param name="Malignant">True for <c>SOB_M_</c>, false for <c>SOB_B_</c>.</param>
/// <param name="SubtypeCode">A, F, PT, TA (benign) or DC, LC, MC, PC (malignant).</param>
/// <param name="Subtype">The subtype's name, e.g. <c>fibroadenoma</c> (the code itself when unknown).</param>
/// <param name="PatientId">Year and patient, e.g. <c>14-22549AB</c>; one patient has images at every magnification.</param>
/// <param name="Magnification">Objective magnification: 40, 100, 200 or 400.</param>
/// <param name="Sequence">Image number within patient and magnification.</param>
public sealed record BreakHisName(bool Malignant, string SubtypeCode, string Subtype, string PatientId, int Magnification, int Sequence)
{
    /// <summary><c>malignant</c> or <c>benign</c>.</summary>
    public string Label => Malignant ? "malignant" : "benign";
}

/// <summary>
/// Parsers for the file-name schemes of public breast histology datasets that carry the label and the patient, and
/// the rule that derives a source-image id from a patch name.
/// </summary>
public static partial class NamingSchemes
{
    /// <summary>The IDC class names as they appear in file names and folders.</summary>
    public static IReadOnlyList<string> IdcClassNames { get; } = ["0", "1"];

    /// <summary>
    /// What the IDC classes are, for people: class 0 is tissue without invasive ductal carcinoma (BACH code 0,
    /// Normal), class 1 is invasive ductal carcinoma (BACH code 3, Invasive).
    /// </summary>
    public static IReadOnlyList<string> IdcDisplayNames { get; } = ["non-IDC tissue", "IDC"];

    /// <summary>
    /// The names a known scheme gives its class labels (IDC's "0", "1" are "non-IDC tissue", "IDC"), or null when the
    /// labels are already names (BACH, BreakHis, folder names) or belong to no known scheme.
    /// </summary>
    public static IReadOnlyList<string>? DisplayNamesOf(IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return labels.SequenceEqual(IdcClassNames, StringComparer.Ordinal) ? IdcDisplayNames : null;
    }

    /// <summary>BreakHis binary labels.</summary>
    public static IReadOnlyList<string> BreakHisLabels { get; } = ["benign", "malignant"];

    private static readonly Dictionary<string, string> BreakHisSubtypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = "adenosis",
        ["F"] = "fibroadenoma",
        ["PT"] = "phyllodes_tumor",
        ["TA"] = "tubular_adenoma",
        ["DC"] = "ductal_carcinoma",
        ["LC"] = "lobular_carcinoma",
        ["MC"] = "mucinous_carcinoma",
        ["PC"] = "papillary_carcinoma",
    };

    /// <summary>The BreakHis subtype names (benign first).</summary>
    public static IReadOnlyList<string> BreakHisSubtypeNames { get; } = [.. BreakHisSubtypes.Values];

    [GeneratedRegex(@"^(?<patient>\d+)_idx5_x(?<x>\d+)_y(?<y>\d+)_class(?<c>[01])\.png$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex IdcRegex();

    [GeneratedRegex(@"^SOB_(?<bm>[BM])_(?<sub>[A-Z]+)-(?<year>\d+)-(?<patient>[0-9A-Z]+)-(?<mag>\d+)-(?<seq>\d+)\.png$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BreakHisRegex();

    // Trailing patch-position or patch-number tokens: _x100_y200, _12_7, -3, _patch5, _tile12, _r3_c4 ...
    [GeneratedRegex(@"(?:[_\-.](?:x\d+|y\d+|\d+|(?:patch|tile|crop|p|r|c|row|col)\d+))+$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PatchSuffixRegex();

    /// <summary>Parses an IDC patch name <c>&lt;patient&gt;_idx5_x&lt;X&gt;_y&lt;Y&gt;_class&lt;0|1&gt;.png</c>; null when it is not one.</summary>
    public static IdcName? TryParseIdc(string fileName)
    {
        var m = IdcRegex().Match(fileName);
        if (!m.Success
            || !int.TryParse(m.Groups["x"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int x)
            || !int.TryParse(m.Groups["y"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int y))
        {
            return null;
        }

        return new IdcName(m.Groups["patient"].Value, x, y, m.Groups["c"].Value[0] - '0');
    }

    /// <summary>
    /// Parses a BreakHis name <c>SOB_&lt;B|M&gt;_&lt;subtype&gt;-&lt;year&gt;-&lt;patient&gt;-&lt;mag&gt;-&lt;seq&gt;.png</c>;
    /// null when it is not one.
    /// </summary>
    public static BreakHisName? TryParseBreakHis(string fileName)
    {
        var m = BreakHisRegex().Match(fileName);
        if (!m.Success
            || !int.TryParse(m.Groups["mag"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int mag)
            || !int.TryParse(m.Groups["seq"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int seq))
        {
            return null;
        }

        string code = m.Groups["sub"].Value.ToUpperInvariant();
        bool malignant = m.Groups["bm"].Value is "M" or "m";
        string subtype = BreakHisSubtypes.TryGetValue(code, out var name) ? name : code;
        string patient = m.Groups["year"].Value + "-" + m.Groups["patient"].Value;
        return new BreakHisName(malignant, code, subtype, patient, mag, seq);
    }

    /// <summary>
    /// The source-image id of a patch named <paramref name="fileName"/>: the name without extension and without
    /// trailing patch-position or patch-number tokens (<c>A01_x1000_y2000.png</c>, <c>b001_3.png</c> and
    /// <c>b001-tile12.png</c> come from <c>A01</c>, <c>b001</c>, <c>b001</c>). A name that is nothing but such tokens is kept
    /// whole. Deliberately conservative: two images whose names differ only in a trailing number are treated as one
    /// source, which can never cause a leak (a CSV manifest's group column says otherwise when needed).
    /// </summary>
    public static string SourceImageIdOf(string fileName)
    {
        string stem = Path.GetFileNameWithoutExtension(fileName);
        string stripped = PatchSuffixRegex().Replace(stem, "");
        return stripped.Length == 0 ? stem : stripped;
    }
}
