namespace Histo;

/// <summary>
/// Base of every failure Histo reports on purpose. The message is one line a user can act on;
/// the command-line program prints it as <c>error: message</c> and exits non-zero.
/// </summary>
public class HistoException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public HistoException(string message) : base(message) { }

    /// <summary>Creates the exception with a user-facing message and the underlying cause.</summary>
    public HistoException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A slide or image file that cannot be opened: missing, unsupported, truncated or corrupt.</summary>
public sealed class SlideOpenException : HistoException
{
    /// <summary>Path of the file that failed to open.</summary>
    public string Path { get; }

    /// <summary>Creates the exception.</summary>
    public SlideOpenException(string path, string message) : base(message) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public SlideOpenException(string path, string message, Exception inner) : base(message, inner) => Path = path;
}

/// <summary>
/// A read from an opened slide failed. OpenSlide errors latch: after the first one every later call on the same
/// slide fails too (<see cref="Slides.Slide.LatchedError"/>).
/// </summary>
public sealed class SlideReadException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public SlideReadException(string message) : base(message) { }
}

/// <summary>A requested region, level or size that does not fit the slide.</summary>
public sealed class InvalidRegionException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRegionException(string message) : base(message) { }
}

/// <summary>An image file that cannot be decoded or encoded.</summary>
public sealed class ImageFormatException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ImageFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ImageFormatException(string message, Exception inner) : base(message, inner) { }
}
