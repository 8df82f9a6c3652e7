namespace Histo.Bach;

/// <summary>The BACH Part B classes; the value is the code painted into label masks and class maps.</summary>
public enum BachClass : byte
{
    /// <summary>Normal tissue, and every pixel outside an annotated region.</summary>
    Normal = 0,

    /// <summary>Benign lesion.</summary>
    Benign = 1,

    /// <summary>Carcinoma in situ.</summary>
    InSitu = 2,

    /// <summary>Invasive carcinoma.</summary>
    Invasive = 3,
}

/// <summary>
/// The BACH classes by name: their names in code order, the exact-name rule (dataset folders and labels) and the
/// substring rule (annotation labels, model class names, display colours).
/// </summary>
public static class BachClasses
{
    /// <summary>Number of BACH classes.</summary>
    public const int Count = 4;

    /// <summary>The BACH class names, index = code (Normal 0, Benign 1, InSitu 2, Invasive 3).</summary>
    public static IReadOnlyList<string> Names { get; } = ["Normal", "Benign", "InSitu", "Invasive"];

    /// <summary>
    /// The substring that marks each class in a free-text name, index = code: 'ormal', 'nign', 'situ', 'vasive'
    /// (so "Normal", "benign lesion", "Carcinoma in situ", "Invasive carcinoma" all match).
    /// </summary>
    public static IReadOnlyList<string> NameSubstrings { get; } = ["ormal", "nign", "situ", "vasive"];

    /// <summary>
    /// The substring rule: the codes whose <see cref="NameSubstrings"/> entry occurs in <paramref name="text"/>
    /// (ignoring case), in code order; empty when none does. A caller decides what more than one match means
    /// (an annotation label is then ambiguous; a class name takes the first).
    /// </summary>
    public static IReadOnlyList<int> CodesMatching(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var codes = new List<int>(1);
        for (int code = 0; code < NameSubstrings.Count; code++)
        {
            if (text.Contains(NameSubstrings[code], StringComparison.OrdinalIgnoreCase))
            {
                codes.Add(code);
            }
        }

        return codes;
    }

    /// <summary>The substring rule's first match (the lowest code whose substring occurs), or null when none does.</summary>
    public static int? FirstCodeMatching(string? text) => CodesMatching(text) is [int first, ..] ? first : null;

    /// <summary>
    /// The exact-name rule: the BACH code of a class name (Normal 0, Benign 1, InSitu 2, Invasive 3), ignoring case,
    /// spaces and punctuation (<c>in_situ</c> and <c>In Situ</c> are InSitu); null for any other name.
    /// </summary>
    public static int? CodeOfName(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        Span<char> letters = stackalloc char[Math.Min(className.Length, 64)];
        int n = 0;
        foreach (char c in className)
        {
            if (char.IsLetter(c) && n < letters.Length)
            {
                letters[n++] = char.ToLowerInvariant(c);
            }
        }

        return letters[..n] switch
        {
            "normal" => 0,
            "benign" => 1,
            "insitu" => 2,
            "invasive" => 3,
            _ => null,
        };
    }
}
