using System.Globalization;
using System.Text.Json;

namespace Histo.IO;

/// <summary>
/// Colours as annotation files and <c>geometry.json</c> write them: <c>[r, g, b]</c>, a packed integer (QuPath's
/// 0xAARRGGBB, alpha ignored), or <c>#rrggbb</c> / <c>#rgb</c>. Formatting is <see cref="Bach.ClassPalette.ToHex"/>.
/// </summary>
public static class ColorText
{
    /// <summary>The colour a JSON value writes; null when it is none of the forms above.</summary>
    public static (byte R, byte G, byte B)? Parse(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array when value.GetArrayLength() >= 3:
                var c = value.EnumerateArray().Take(3).Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i : -1).ToArray();
                return c.All(i => i is >= 0 and <= 255) ? ((byte)c[0], (byte)c[1], (byte)c[2]) : null;
            case JsonValueKind.Number when value.TryGetInt64(out long packed):
                return ((byte)(packed >> 16), (byte)(packed >> 8), (byte)packed);
            case JsonValueKind.String:
                return Parse(value.GetString());
            default:
                return null;
        }
    }

    /// <summary>The colour of <c>#rrggbb</c> or <c>#rgb</c> (either case); null otherwise.</summary>
    public static (byte R, byte G, byte B)? Parse(string? text)
    {
        if (text is not ({ Length: 7 } or { Length: 4 }) || text[0] != '#'
            || !int.TryParse(text.AsSpan(1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v))
        {
            return null;
        }

        return text.Length == 7
            ? ((byte)(v >> 16), (byte)(v >> 8), (byte)v)
            : ((byte)(((v >> 8) & 15) * 17), (byte)(((v >> 4) & 15) * 17), (byte)((v & 15) * 17));
    }
}
