namespace Histo.Annotations;

/// <summary>An annotation file that cannot be read: missing, too large, not XML/JSON, or not a known layout.</summary>
public sealed class AnnotationFormatException : HistoException
{
    /// <summary>Path (or name) of the file.</summary>
    public string Path { get; }

    /// <summary>Creates the exception.</summary>
    public AnnotationFormatException(string path, string message) : base(OneLine(message)) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public AnnotationFormatException(string path, string message, Exception inner) : base(OneLine(message), inner) => Path = path;

    /// <summary>Messages quote the file's own text (a JSON token, an XML fragment), which may hold line breaks.</summary>
    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}

/// <summary>
/// A label map (<see cref="LabelMap.Parse"/>) that cannot be parsed or names a class that does not exist; its
/// <see cref="HistoException.Parameter"/> is always <see cref="HistoParameter.LabelMap"/>.
/// </summary>
public sealed class LabelMapException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public LabelMapException(string message) : base(message, message, HistoParameter.LabelMap, null) { }

    /// <summary>Creates the exception with its cause.</summary>
    public LabelMapException(string message, Exception inner) : base(message, message, HistoParameter.LabelMap, inner) { }
}
