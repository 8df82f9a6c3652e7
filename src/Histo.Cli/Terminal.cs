using Histo.IO;
using Spectre.Console;

namespace Histo.Cli;

/// <summary>
/// What the CLI shows on a terminal. Every user-supplied string (file names, label texts, class names, slide
/// properties, messages quoting them) goes through <see cref="Escape"/> or <see cref="Markup"/>, so an ESC sequence
/// in an annotation's class name shows as <c>\u001b[2J</c> instead of clearing the screen.
/// </summary>
internal static class Terminal
{
    /// <summary>The text with control characters made visible (<c>\u001b</c>); line breaks and tabs kept.</summary>
    public static string Escape(string? text) => CsvText.VisibleControls(text ?? "", keepLineBreaks: true);

    /// <summary>The text for Spectre markup: control characters made visible, then markup brackets escaped.</summary>
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(Escape(text));

    /// <summary>Writes one line to stderr with its control characters made visible.</summary>
    public static void ErrorLine(string line) => Console.Error.WriteLine(Escape(line));

    /// <summary>Writes one line to stdout with its control characters made visible.</summary>
    public static void OutLine(string line) => Console.Out.WriteLine(Escape(line));

    /// <summary>
    /// Writes one line of Spectre markup to stdout: styled on a terminal; as its plain text, unwrapped, when stdout is
    /// redirected (Spectre would wrap it at 80 columns, splitting a command to copy or a path across lines).
    /// </summary>
    public static void MarkupLine(string markup)
    {
        if (Console.IsOutputRedirected)
        {
            Console.Out.WriteLine(Spectre.Console.Markup.Remove(markup));
        }
        else
        {
            AnsiConsole.MarkupLine(markup);
        }
    }
}
