using System.Text.Json;

namespace Histo.Cli.Rendering;

/// <summary>The one way the CLI writes JSON: <see cref="JsonSerializer"/>, indented, one document on stdout.</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>The document of <paramref name="value"/> (dictionaries keep their keys' order).</summary>
    public static string Serialize(object value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes the document of <paramref name="value"/> to stdout.</summary>
    public static void Write(object value) => Terminal.OutLine(Serialize(value));
}
