namespace Histo.Annotations;

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

/// <summary>Names and display colours of classes.</summary>
public static class ClassPalette
{
    /// <summary>The BACH class names, index = code.</summary>
    public static IReadOnlyList<string> BachNames { get; } = ["Normal", "Benign", "InSitu", "Invasive"];

    private static readonly Dictionary<string, (byte R, byte G, byte B)> Named = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Normal"] = (120, 180, 120),
        ["Benign"] = (250, 200, 0),
        ["InSitu"] = (255, 120, 0),
        ["Invasive"] = (200, 0, 0),
    };

    // Tableau-10: distinct colours for classes without a fixed one.
    private static readonly (byte R, byte G, byte B)[] Cycle =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    /// <summary>
    /// The colour of a class: fixed for the BACH names (Normal green, Benign yellow, InSitu orange, Invasive red),
    /// otherwise picked by code from a 10-colour cycle. Unresolved labels (code null) are grey.
    /// </summary>
    public static (byte R, byte G, byte B) ColorOf(int? code, string? name)
    {
        if (name != null && Named.TryGetValue(name, out var color))
        {
            return color;
        }

        return code is { } c ? Cycle[((c % Cycle.Length) + Cycle.Length) % Cycle.Length] : ((byte)160, (byte)160, (byte)160);
    }
}
