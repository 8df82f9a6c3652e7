using System.Globalization;
using System.Text;

namespace Histo.IO;

/// <summary>What a path names, after following symbolic links.</summary>
public enum InputFileKind
{
    /// <summary>Nothing (or a dangling link).</summary>
    Missing,

    /// <summary>A regular file: the only kind that is ever opened for reading.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A FIFO (named pipe): opening it blocks until some other process writes.</summary>
    Fifo,

    /// <summary>A character or block device, such as /dev/zero or a disk.</summary>
    Device,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>Not reachable: a path component is not searchable, or links loop.</summary>
    Inaccessible,
}

/// <summary>
/// Reads untrusted input files safely: only regular files (after following links) are opened, so a FIFO or a device
/// never blocks or streams forever, and a file's size is checked against a bound before anything is allocated for it.
/// Text is decoded by its byte-order mark (UTF-8, UTF-16 LE or BE), UTF-8 without one.
/// </summary>
public static class InputFile
{
    /// <summary>Largest text input (annotations, manifests, cards, JSON sidecars) read whole.</summary>
    public const long MaxTextBytes = 512L << 20;

    /// <summary>What <paramref name="path"/> is, following links.</summary>
    public static InputFileKind KindOf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            return Directory.Exists(path) ? InputFileKind.Directory : File.Exists(path) ? InputFileKind.Regular : InputFileKind.Missing;
        }

        var (error, type, _) = Native.LibC.Stat(path);
        return error switch
        {
            0 => type switch
            {
                0x8000 => InputFileKind.Regular,
                0x4000 => InputFileKind.Directory,
                0x1000 => InputFileKind.Fifo,
                0x2000 or 0x6000 => InputFileKind.Device,
                0xC000 => InputFileKind.Socket,
                _ => InputFileKind.Device,
            },
            13 or 40 => InputFileKind.Inaccessible, // EACCES, ELOOP
            _ => InputFileKind.Missing, // ENOENT, ENOTDIR, ENAMETOOLONG
        };
    }

    /// <summary>True when <paramref name="path"/> is a regular file (after following links).</summary>
    public static bool IsRegular(string path) => KindOf(path) == InputFileKind.Regular;

    /// <summary>A few words naming a kind of path that is not a regular file ("a FIFO (named pipe)").</summary>
    public static string Describe(InputFileKind kind) => kind switch
    {
        InputFileKind.Missing => "not found",
        InputFileKind.Regular => "a regular file",
        InputFileKind.Directory => "a directory",
        InputFileKind.Fifo => "a FIFO (named pipe)",
        InputFileKind.Device => "a device",
        InputFileKind.Socket => "a socket",
        _ => "not accessible (permission denied or a link loop)",
    };

    /// <summary>
    /// The message for a path that is not a regular file: "x.svs: file not found", "x.svs is a FIFO (named pipe), not a
    /// regular file"; null when it is one.
    /// </summary>
    public static string? Problem(string path)
    {
        var kind = KindOf(path);
        return kind switch
        {
            InputFileKind.Regular => null,
            InputFileKind.Missing => $"{path}: file not found",
            InputFileKind.Inaccessible => $"{path}: permission denied or a link loop",
            _ => $"{path} is {Describe(kind)}, not a regular file",
        };
    }

    /// <summary>Throws <see cref="InputFileException"/> unless <paramref name="path"/> is a regular file; returns its size.</summary>
    public static long RequireRegular(string path)
    {
        if (Problem(path) is { } problem)
        {
            throw new InputFileException(path, problem);
        }

        return new FileInfo(path).Length;
    }

    /// <summary>
    /// Opens a regular file for reading, refusing anything else and files larger than <paramref name="maxBytes"/>
    /// (<paramref name="what"/> names the file in that message: "annotation file").
    /// </summary>
    public static FileStream OpenRead(string path, long maxBytes, string what)
    {
        long size = RequireRegular(path);
        CheckSize(path, size, maxBytes, what);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.SequentialScan);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InputFileException(path, $"{path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new InputFileException(path, $"{path}: cannot read ({e.Message})", e);
        }
    }

    /// <summary>The first <paramref name="count"/> bytes (fewer for a shorter file) of a regular file, to tell its format.</summary>
    public static byte[] ReadHead(string path, int count)
    {
        using var stream = OpenRead(path, long.MaxValue, "a file");
        var head = new byte[count];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return head[..n];
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = OpenRead(path, maxBytes, what);
        try
        {
            // The length is read again from the open file: it may have changed since it was checked.
            long length = stream.Length;
            CheckSize(path, length, maxBytes, what);
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (EndOfStreamException e)
        {
            throw new InputFileException(path, $"{path}: the file shrank while it was read", e);
        }
        catch (IOException e)
        {
            throw new InputFileException(path, $"{path}: cannot read ({e.Message})", e);
        }
    }

    /// <summary>
    /// Reads a whole text file of at most <paramref name="maxBytes"/> bytes, decoded by its byte-order mark. A file
    /// whose first 8 KB hold a NUL byte (and no UTF-16 mark) is binary, not text, and refused before the rest is read.
    /// </summary>
    public static string ReadAllText(string path, long maxBytes, string what)
    {
        using (var stream = OpenRead(path, maxBytes, what))
        {
            var head = new byte[8192];
            int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var span = head.AsSpan(0, read);
            bool utf16 = span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);
            if (!utf16 && span.Contains((byte)0))
            {
                throw new InputFileException(path, $"{path}: binary data (NUL bytes), not a text file; expected {what}");
            }
        }

        return DecodeText(ReadAllBytes(path, maxBytes, what));
    }

    /// <summary>
    /// Decodes text by its byte-order mark: UTF-8, UTF-16 LE or UTF-16 BE (the mark is dropped); UTF-8 without one.
    /// Files written by Windows tools (Notepad, Excel, .NET's XmlWriter) often start with one.
    /// </summary>
    public static string DecodeText(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(Utf8Bytes(bytes, out _));

    /// <summary>
    /// The text as UTF-8 without a byte-order mark: the bytes themselves (minus a UTF-8 mark), or UTF-16 text with a
    /// mark re-encoded; <paramref name="encoding"/> names what the file was.
    /// </summary>
    public static byte[] Utf8Bytes(ReadOnlySpan<byte> bytes, out string encoding)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            encoding = "UTF-8 with BOM";
            return bytes[3..].ToArray();
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            encoding = "UTF-16 LE";
            return Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(bytes[2..]));
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            encoding = "UTF-16 BE";
            return Encoding.UTF8.GetBytes(Encoding.BigEndianUnicode.GetString(bytes[2..]));
        }

        encoding = "UTF-8";
        return bytes.ToArray();
    }

    private static void CheckSize(string path, long size, long maxBytes, string what)
    {
        if (size > maxBytes)
        {
            throw new InputFileException(path, string.Create(CultureInfo.InvariantCulture,
                $"{path}: {FormatBytes(size)} is too large for {what} (at most {FormatBytes(maxBytes)})"));
        }
    }

    /// <summary>
    /// A parser's own message (XmlException, JsonException) made to read as a finding about the file: "Unexpected end
    /// of file" becomes "the file ends early (cut short?)", any other "unexpected" "misplaced", and only the first line kept.
    /// </summary>
    public static string ParserDetail(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string first = message.Split('\n')[0].Trim();
        first = System.Text.RegularExpressions.Regex.Replace(first, "Unexpected end of (file|data)( while parsing [A-Za-z]+)? has occurred", "the file ends early (cut short?)", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        first = System.Text.RegularExpressions.Regex.Replace(first, "unexpected", "misplaced", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return first;
    }

    /// <summary>A byte count for messages: "3.0 GB", "512 MB", "41 KB".</summary>
    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20} MB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 10} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}

/// <summary>An input path that cannot be read: missing, not a regular file, unreadable or too large.</summary>
public sealed class InputFileException : HistoException
{
    /// <summary>The path.</summary>
    public string Path { get; }

    /// <summary>Creates the exception.</summary>
    public InputFileException(string path, string message) : base(message) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public InputFileException(string path, string message, Exception inner) : base(message, inner) => Path = path;
}
