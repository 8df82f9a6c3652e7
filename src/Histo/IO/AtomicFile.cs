namespace Histo.IO;

/// <summary>
/// Writes files so that a reader (or a crash, or kill -9) never sees half of one: the content goes to a temporary
/// file in the same directory, is flushed to disk, and is then renamed over the destination.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Lets <paramref name="write"/> fill a stream and renames the result over <paramref name="path"/> only when it
    /// returns normally.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string temp = TempPathFor(path);
        try
        {
            using (var stream = CreateTemp(temp, path))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            Publish(temp, path);
        }
        catch (IOException e)
        {
            TryDelete(temp);
            throw new OutputFileException(path, $"{path}: cannot write ({e.Message})", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Publishes a directory atomically: <paramref name="fill"/> writes into a fresh temporary sibling directory,
    /// which then replaces <paramref name="directory"/> (an existing one is removed only after the new one is complete).
    /// </summary>
    public static void WriteDirectory(string directory, Action<string> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? ".";
        if (File.Exists(full))
        {
            throw new OutputFileException(directory, $"{directory} is a file; give a folder name for this output");
        }

        string temp = Path.Combine(parent, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(temp);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputFileException(directory, $"{directory}: cannot write there (permission denied in {parent})", e);
        }
        catch (IOException e)
        {
            throw new OutputFileException(directory, $"{directory}: cannot write there ({e.Message})", e);
        }

        try
        {
            fill(temp);
            string? old = null;
            if (Directory.Exists(full))
            {
                old = Path.Combine(parent, $".{Path.GetFileName(full)}.old-{Guid.NewGuid():N}");
                Directory.Move(full, old);
            }

            Directory.Move(temp, full);
            if (old != null)
            {
                Directory.Delete(old, recursive: true);
            }
        }
        catch
        {
            try
            {
                if (Directory.Exists(temp))
                {
                    Directory.Delete(temp, recursive: true);
                }
            }
            catch (IOException)
            {
            }

            throw;
        }
    }

    /// <summary>
    /// Creates an output folder (and its parents), turning a refusal into an <see cref="OutputFileException"/> that
    /// names the folder and why (permission denied, a file in the way).
    /// </summary>
    public static void CreateOutputDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputFileException(directory, $"{directory}: cannot write there (permission denied)", e);
        }
        catch (IOException e)
        {
            throw new OutputFileException(directory, $"{directory}: cannot create the folder ({e.Message})", e);
        }
    }

    /// <summary>Creates the temporary file, turning the usual failures into a message naming the destination.</summary>
    private static FileStream CreateTemp(string temp, string path)
    {
        if (Directory.Exists(path))
        {
            throw new OutputFileException(path, $"{path} is a directory; give a file name for this output");
        }

        string dir = Path.GetDirectoryName(temp) ?? ".";
        try
        {
            return new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputFileException(path, $"{path}: cannot write there (permission denied in {dir})", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new OutputFileException(path, $"{path}: cannot write there (folder {dir} does not exist)", e);
        }
    }

    /// <summary>Renames the finished temporary file over the destination.</summary>
    private static void Publish(string temp, string path)
    {
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OutputFileException(path, $"{path}: cannot replace it (permission denied)", e);
        }
    }

    private static string TempPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        return Path.Combine(dir, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>An output file or folder that cannot be written: permission denied, a directory in the way, disk full.</summary>
public sealed class OutputFileException : HistoException
{
    /// <summary>The destination.</summary>
    public string Path { get; }

    /// <summary>Creates the exception.</summary>
    public OutputFileException(string path, string message) : base(message) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public OutputFileException(string path, string message, Exception inner) : base(message, inner) => Path = path;
}
