using System.Globalization;
using System.Text;

namespace Histo.IO;

/// <summary>
/// Text cells of the CSV files Histo writes (slide, image, class and group names, paths, messages). A cell that a
/// spreadsheet would run as a formula (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage
/// return) is neutralised as OWASP recommends for CSV injection: prefixed with a single quote and quoted. Control
/// characters are written visibly (<c>\u001b</c>), so a name cannot carry terminal escape sequences either.
/// </summary>
public static class CsvText
{
    /// <summary>One text cell, quoted when it holds a comma, quote or line break, or had to be neutralised.</summary>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string text = VisibleControls(value, keepLineBreaks: true);
        bool formula = text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
        if (formula)
        {
            text = "'" + text;
        }

        return formula || text.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    /// <summary>The value of a cell written by <see cref="Field"/> (after CSV unquoting): the neutralising quote removed.</summary>
    public static string Value(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return cell.Length >= 2 && cell[0] == '\'' && cell[1] is '=' or '+' or '-' or '@' or '\t' or '\r' ? cell[1..] : cell;
    }

    /// <summary>
    /// The text with every control character (C0 but tab and line breaks when <paramref name="keepLineBreaks"/>,
    /// DEL, C1) and bidirectional override written as a visible <c>\uXXXX</c> escape; the same text when it has none.
    /// </summary>
    public static string VisibleControls(string value, bool keepLineBreaks)
    {
        ArgumentNullException.ThrowIfNull(value);
        int first = -1;
        for (int i = 0; i < value.Length; i++)
        {
            if (MustEscape(value[i], keepLineBreaks))
            {
                first = i;
                break;
            }
        }

        if (first < 0)
        {
            return value;
        }

        var sb = new StringBuilder(value.Length + 16).Append(value, 0, first);
        for (int i = first; i < value.Length; i++)
        {
            char c = value[i];
            if (MustEscape(c, keepLineBreaks))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static bool MustEscape(char c, bool keepLineBreaks) =>
        c switch
        {
            '\n' or '\t' => !keepLineBreaks,
            '\r' => !keepLineBreaks,
            < ' ' or '\u007f' => true,
            >= '\u0080' and <= '\u009f' => true,
            // bidirectional embeddings, overrides and isolates reorder what the terminal shows
            >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069' => true,
            _ => false,
        };
}
