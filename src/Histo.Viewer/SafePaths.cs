namespace Histo.Viewer;

/// <summary>
/// Maps names taken from URLs to files under one root folder, and refuses everything else: names with empty, dot or
/// hidden segments, backslashes or control characters, absolute names, and files whose real path (symbolic links
/// resolved) lies outside the root.
/// </summary>
internal sealed class SafeRoot
{
    private const int MaxNameLength = 1024;
    private const int MaxLinkDepth = 40;

    /// <summary>Opens a root folder; throws <see cref="ViewerStartException"/> when it is not a folder.</summary>
    public SafeRoot(string folder, string role)
    {
        if (!Directory.Exists(folder))
        {
            throw new ViewerStartException(File.Exists(folder)
                ? $"{role} '{folder}' is a file; give the folder that holds it"
                : $"{role} '{folder}' does not exist");
        }

        RealFolder = RealPath(folder);
    }

    /// <summary>The root folder with every symbolic link resolved.</summary>
    public string RealFolder { get; }

    /// <summary>
    /// True when <paramref name="relativeName"/> (segments separated by '/') is a well-formed name and names an
    /// existing regular file whose real path lies under the root; <paramref name="realPath"/> is then that path.
    /// </summary>
    public bool TryResolveFile(string relativeName, out string realPath) =>
        TryResolve(relativeName, File.Exists, out realPath);

    /// <summary>Like <see cref="TryResolveFile"/> for a folder.</summary>
    public bool TryResolveFolder(string relativeName, out string realPath) =>
        TryResolve(relativeName, Directory.Exists, out realPath);

    private bool TryResolve(string relativeName, Func<string, bool> exists, out string realPath)
    {
        realPath = "";
        if (!IsWellFormed(relativeName))
        {
            return false;
        }

        string real;
        try
        {
            real = RealPath(Path.Join(RealFolder, relativeName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        if (!IsInside(real) || !exists(real))
        {
            return false;
        }

        realPath = real;
        return true;
    }

    /// <summary>True when a real (link-free) path lies strictly under the root.</summary>
    public bool IsInside(string realPath) =>
        realPath.Length > RealFolder.Length + 1
        && realPath.StartsWith(RealFolder, StringComparison.Ordinal)
        && (RealFolder.EndsWith('/') || realPath[RealFolder.Length] == '/');

    /// <summary>
    /// Relative names ('/'-separated) of the files under the root whose extension is in <paramref name="extensions"/>,
    /// hidden entries and anything whose real path leaves the root skipped, sorted; at most <paramref name="limit"/>.
    /// </summary>
    public List<string> ListFiles(IReadOnlySet<string> extensions, int maxDepth, int limit)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = maxDepth,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden,
            ReturnSpecialDirectories = false,
        };
        var names = new List<string>();
        foreach (string file in Directory.EnumerateFiles(RealFolder, "*", options))
        {
            if (!extensions.Contains(Path.GetExtension(file)))
            {
                continue;
            }

            string relative = Path.GetRelativePath(RealFolder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (TryResolveFile(relative, out _))
            {
                names.Add(relative);
                if (names.Count >= limit)
                {
                    break;
                }
            }
        }

        names.Sort(StringComparer.OrdinalIgnoreCase);
        return names;
    }

    /// <summary>Whether a URL-supplied name can only mean a path below the root.</summary>
    public static bool IsWellFormed(string relativeName)
    {
        if (string.IsNullOrEmpty(relativeName) || relativeName.Length > MaxNameLength)
        {
            return false;
        }

        foreach (char c in relativeName)
        {
            if (c == '\\' || char.IsControl(c))
            {
                return false;
            }
        }

        foreach (string segment in relativeName.Split('/'))
        {
            // Empty (absolute name, "//"), ".", ".." and hidden names.
            if (segment.Length == 0 || segment[0] == '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The absolute path with every symbolic link in every component resolved, like POSIX <c>realpath</c>
    /// (components that do not exist are kept as they are).
    /// </summary>
    public static string RealPath(string path) => RealPath(path, 0);

    private static string RealPath(string path, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException($"too many levels of symbolic links at {path}");
        }

        string current = "/";
        foreach (string part in Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target != null)
            {
                next = RealPath(Path.IsPathRooted(target) ? target : Path.Join(current, target), depth + 1);
            }

            current = next;
        }

        return current;
    }
}
