using System.Globalization;

namespace Histo.Bach;

/// <summary>
/// The one set of class colours: the BACH classes in fixed colours (Normal green, Benign yellow, InSitu orange,
/// Invasive red: the viewer's, Tableau-10's green, orange and red with a yellow between), every other class from the
/// Tableau-10 cycle. Class maps, <c>overlay.png</c> legends, <c>bach.png</c>, <c>geometry.json</c>'s
/// <c>class_colors</c>, GeoJSON classifications and the viewer all take their colours from here.
/// </summary>
public static class ClassPalette
{
    private static readonly (byte R, byte G, byte B)[] BachColors =
    [
        (44, 160, 44),  // Normal   #2ca02c
        (230, 198, 25), // Benign   #e6c619
        (255, 127, 14), // InSitu   #ff7f0e
        (214, 39, 40),  // Invasive #d62728
    ];

    // Tableau-10: distinct colours for classes without a fixed one.
    private static readonly (byte R, byte G, byte B)[] Cycle =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    /// <summary>The colour of labels that resolve to no class.</summary>
    public static (byte R, byte G, byte B) Unresolved => (160, 160, 160);

    /// <summary>The colour of a BACH code 0..3 (values outside are clamped).</summary>
    public static (byte R, byte G, byte B) ColorOfBachCode(int code) => BachColors[Math.Clamp(code, 0, BachClasses.Count - 1)];

    /// <summary>Colour number <paramref name="index"/> of the cycle for classes without a BACH colour (any integer; it wraps).</summary>
    public static (byte R, byte G, byte B) CycleColor(int index) => Cycle[((index % Cycle.Length) + Cycle.Length) % Cycle.Length];

    /// <summary>The colour of class <paramref name="classIndex"/> of a model: by its BACH code when the classes have one, else by index from the cycle.</summary>
    public static (byte R, byte G, byte B) ColorOfClass(int classIndex, IReadOnlyList<int>? bachCodes) =>
        bachCodes != null && classIndex < bachCodes.Count && bachCodes[classIndex] is >= 0 and < BachClasses.Count
            ? BachColors[bachCodes[classIndex]]
            : CycleColor(classIndex);

    /// <summary>
    /// The colour of an annotation's class: fixed for the BACH names (<see cref="BachClasses.Names"/>, ignoring case),
    /// otherwise by code from the cycle; <see cref="Unresolved"/> when the label resolved to no class (code null).
    /// </summary>
    public static (byte R, byte G, byte B) ColorOfLabel(int? code, string? name)
    {
        if (name != null)
        {
            for (int k = 0; k < BachClasses.Count; k++)
            {
                if (string.Equals(name, BachClasses.Names[k], StringComparison.OrdinalIgnoreCase))
                {
                    return BachColors[k];
                }
            }
        }

        return code is { } c ? CycleColor(c) : Unresolved;
    }

    /// <summary>
    /// The BACH colour of a free-text class name by the substring rule (<see cref="BachClasses.FirstCodeMatching"/>),
    /// with "tumo(u)r" as Invasive; null for a name that names no BACH class.
    /// </summary>
    public static (byte R, byte G, byte B)? BachColorOfName(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        if (BachClasses.FirstCodeMatching(className) is { } code)
        {
            return BachColors[code];
        }

        return className.Contains("tumo", StringComparison.OrdinalIgnoreCase) ? BachColors[(int)BachClass.Invasive] : null;
    }

    /// <summary>The colour of a class known only by its name and position: <see cref="BachColorOfName"/>, else the cycle's colour <paramref name="index"/>.</summary>
    public static (byte R, byte G, byte B) ColorOfName(string className, int index) => BachColorOfName(className) ?? CycleColor(index);

    /// <summary>A colour as <c>#rrggbb</c> (lower case).</summary>
    public static string ToHex((byte R, byte G, byte B) color) =>
        string.Create(CultureInfo.InvariantCulture, $"#{color.R:x2}{color.G:x2}{color.B:x2}");
}
