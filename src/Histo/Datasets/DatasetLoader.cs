using System.Collections.Concurrent;
using System.Globalization;
using Histo.Bach;
using Histo.Imaging;
using Histo.Slides;

namespace Histo.Datasets;

/// <summary>How BreakHis images are labelled.</summary>
public enum BreakHisLabeling
{
    /// <summary>Two classes, <c>benign</c> and <c>malignant</c> (default).</summary>
    BenignMalignant,

    /// <summary>Eight classes, one per tumour subtype (<c>adenosis</c>, <c>ductal_carcinoma</c>...).</summary>
    Subtype,
}

/// <summary>Options of <see cref="DatasetLoader"/>.</summary>
public sealed record DatasetLoadOptions
{
    /// <summary>What to do with images smaller than their dataset's usual size. Default <see cref="SizePolicy.Pad"/>.</summary>
    public SizePolicy SizePolicy { get; init; } = SizePolicy.Pad;

    /// <summary>Binary or subtype labels for BreakHis names. Default binary.</summary>
    public BreakHisLabeling BreakHisLabeling { get; init; } = BreakHisLabeling.BenignMalignant;

    /// <summary>
    /// Decode every image instead of reading headers only (slower; finds truncated files that have a valid header).
    /// </summary>
    public bool VerifyImages { get; init; }

    /// <summary>Degree of parallelism for reading headers (default: all cores).</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Microns per pixel of every image, instead of what the files record (the user knows better); the scale checks
    /// (missing, different or mixed µm/px) are then skipped. Null (default) reads the scale from the files.
    /// </summary>
    public double? MppOverride { get; init; }

    /// <summary>
    /// Accept images whose recorded scales differ by more than 10 % (the dataset then has no single
    /// <see cref="Dataset.Mpp"/>) instead of refusing them: for evaluation, which brings each image to the model's
    /// scale by its own µm/px. Default false (training needs one scale).
    /// </summary>
    public bool AllowMixedScales { get; init; }
}

/// <summary>
/// Builds a <see cref="Dataset"/> from one or more paths. Each path is one of:
/// <list type="bullet">
/// <item>a folder of class folders, <c>DIR/&lt;class&gt;/...</c> (BACH Part A <c>Photos/{Normal,Benign,InSitu,Invasive}</c>);
/// a folder holding nothing but one sub-folder is entered (a download folder around <c>Photos/</c>);</item>
/// <item>a folder of files whose names carry label and patient: IDC <c>&lt;patient&gt;_idx5_x.._y.._class&lt;0|1&gt;.png</c>
/// and BreakHis <c>SOB_&lt;B|M&gt;_&lt;subtype&gt;-&lt;year&gt;-&lt;patient&gt;-&lt;mag&gt;-&lt;seq&gt;.png</c>, in any folder layout
/// (the name wins over folder names);</item>
/// <item>a CSV manifest <c>path,label[,group]</c> (see <see cref="CsvManifest"/>), paths relative to the CSV.</item>
/// </list>
/// Groups: the patient when a naming scheme or the manifest's group column gives one, else the source image derived
/// from the file name (<see cref="NamingSchemes.SourceImageIdOf"/>). Non-image files are skipped and unreadable images
/// left out, each with a note in <see cref="Dataset.Problems"/>. Sizes and µm/px (TIFF resolution tags) come from the
/// file headers; the dataset's scale is the override, else the median recorded µm/px (see <see cref="Dataset.Mpp"/>):
/// images without one, or more than 1 % off it, get a note, and scales more than 10 % apart are refused.
/// </summary>
public static class DatasetLoader
{
    /// <summary>Recorded scales within this relative difference of the dataset's are the same scale (TIFF rationals are rounded).</summary>
    public const double MppTolerance = 0.01;

    /// <summary>Largest relative spread (max / min - 1) of recorded scales that still makes one dataset scale.</summary>
    public const double MaxMppSpread = 0.10;

    private sealed record Candidate(string Path, string Label, int? BachCode, string Group, GroupKind GroupKind,
        string SourceImageId, int SourceIndex, string Scheme);

    /// <summary>Loads one path (folder or CSV manifest).</summary>
    public static Dataset Load(string path, DatasetLoadOptions? options = null, IProgress<DatasetProgress>? progress = null,
        CancellationToken cancellationToken = default) => Load([path], options, progress, cancellationToken);

    /// <summary>
    /// Loads and combines several paths into one dataset (classes are matched by name, ignoring case).
    /// Throws <see cref="DatasetException"/> for a missing path, <see cref="ManifestFormatException"/> for a malformed
    /// manifest, <see cref="EmptyDatasetException"/> when no labelled image is found,
    /// <see cref="SingleClassDatasetException"/> when all images have one label and
    /// <see cref="MixedScaleDatasetException"/> when the images record scales more than 10 % apart (unless allowed or
    /// overridden).
    /// </summary>
    public static Dataset Load(IReadOnlyList<string> paths, DatasetLoadOptions? options = null,
        IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= new DatasetLoadOptions();
        if (paths.Count == 0)
        {
            throw new DatasetException("no dataset path given");
        }

        if (options.MppOverride is { } given && !(given > 0 && double.IsFinite(given)))
        {
            throw new InvalidParameterException(string.Create(CultureInfo.InvariantCulture, $"µm/px must be positive, got {given}"));
        }

        var problems = new List<DatasetProblem>();
        var candidates = new List<Candidate>();
        var sourcePaths = new List<string>();
        var scannedRoots = new List<string>();
        for (int s = 0; s < paths.Count; s++)
        {
            string full = Path.GetFullPath(paths[s]);
            sourcePaths.Add(full);
            if (Directory.Exists(full))
            {
                ScanFolder(full, s, options, candidates, problems, scannedRoots, cancellationToken);
            }
            else if (File.Exists(full))
            {
                if (!string.Equals(Path.GetExtension(full), ".csv", StringComparison.OrdinalIgnoreCase))
                {
                    throw new DatasetException($"{paths[s]} is a file, not a dataset: give a folder (class folders, or IDC/BreakHis names) or a .csv manifest");
                }

                ReadManifest(full, s, options, candidates, problems);
            }
            else
            {
                throw new DatasetException($"{paths[s]}: not found");
            }
        }

        candidates = RemoveDuplicates(candidates, problems);
        var headers = ReadHeaders(candidates, options, problems, progress, cancellationToken);

        var sources = new List<DatasetSource>();
        var kept = new List<(Candidate C, int W, int H, double? Mpp)>();
        for (int s = 0; s < sourcePaths.Count; s++)
        {
            var readable = candidates.Select((c, i) => (C: c, Header: headers[i]))
                .Where(x => x.C.SourceIndex == s && x.Header is not null)
                .Select(x => (x.C, x.Header!.Value.W, x.Header.Value.H, x.Header.Value.Mpp))
                .ToList();
            var (usualW, usualH) = readable.Count == 0 ? (0, 0) : readable
                .GroupBy(x => (x.W, x.H))
                .OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key.W * (long)g.Key.H)
                .First().Key;
            int count = 0;
            foreach (var x in readable)
            {
                if (x.W < usualW || x.H < usualH)
                {
                    string action = options.SizePolicy switch
                    {
                        SizePolicy.Skip => "skipped",
                        SizePolicy.Resize => "resized to",
                        _ => "padded to",
                    };
                    string to = options.SizePolicy == SizePolicy.Skip ? "" : $" {usualW}x{usualH}";
                    problems.Add(new DatasetProblem(DatasetProblemKind.SmallerThanUsual, x.C.Path,
                        $"{Path.GetFileName(x.C.Path)}: {x.W}x{x.H} is smaller than the usual {usualW}x{usualH} (border cut?): {action}{to}"));
                    if (options.SizePolicy == SizePolicy.Skip)
                    {
                        continue;
                    }
                }

                kept.Add(x);
                count++;
            }

            string scheme = string.Join("+", candidates.Where(c => c.SourceIndex == s).Select(c => c.Scheme).Distinct().Order(StringComparer.Ordinal));
            sources.Add(new DatasetSource(sourcePaths[s], scheme.Length == 0 ? "none" : scheme, count, usualW, usualH));
        }

        if (kept.Count == 0)
        {
            throw new EmptyDatasetException(EmptyMessage(paths, problems));
        }

        var classes = BuildClasses(kept.Select(k => k.C));
        var items = kept.Select(k => new DatasetItem(k.C.Path, IndexOf(classes, k.C.Label), k.C.Group, k.C.SourceImageId, k.W, k.H, k.C.GroupKind, k.C.SourceIndex, k.Mpp))
            .ToArray();
        if (classes.Count == 1)
        {
            string name = classes[0].Name;
            string hint = kept.Any(k => k.C.Scheme == "class-folders")
                          && scannedRoots.Select(p => Path.Combine(p, name)).FirstOrDefault(Directory.Exists) is { } folder
                          && Directory.EnumerateDirectories(folder).Any()
                ? $" (the class folders may be one level down: try {folder})"
                : "";
            throw new SingleClassDatasetException(name,
                $"all {items.Length} images of {string.Join(", ", paths)} have the same label '{name}': a classifier needs at least two classes{hint}");
        }

        var (mpp, mppSource) = ResolveMpp(items, options, problems);
        return new Dataset(items, classes, sources, problems, options.SizePolicy, mpp, mppSource);
    }

    /// <summary>
    /// The dataset's scale: the override; else the median of the recorded µm/px, noting each image that records none or
    /// one more than <see cref="MppTolerance"/> off it, and refusing scales more than <see cref="MaxMppSpread"/> apart
    /// (unless <see cref="DatasetLoadOptions.AllowMixedScales"/>).
    /// </summary>
    private static (double? Mpp, DatasetMppSource Source) ResolveMpp(DatasetItem[] items, DatasetLoadOptions options, List<DatasetProblem> problems)
    {
        if (options.MppOverride is { } given)
        {
            return (given, DatasetMppSource.Override);
        }

        var known = items.Where(i => i.Mpp is not null).OrderBy(i => i.Mpp!.Value).ThenBy(i => i.Path, StringComparer.Ordinal).ToArray();
        if (known.Length == 0)
        {
            return (null, DatasetMppSource.Unknown);
        }

        var inv = CultureInfo.InvariantCulture;
        double min = known[0].Mpp!.Value, max = known[^1].Mpp!.Value;
        if (max / min - 1 > MaxMppSpread)
        {
            if (!options.AllowMixedScales)
            {
                int atMin = known.Count(i => i.Mpp!.Value / min - 1 <= MppTolerance);
                int atMax = known.Count(i => 1 - i.Mpp!.Value / max <= MppTolerance);
                string problem = string.Create(inv,
                    $"the images record different scales, {(max / min - 1) * 100:0} % apart (more than {MaxMppSpread * 100:0} %): {min:0.###} µm/px ({atMin:N0} images, e.g. {known[0].Path}) to {max:0.###} µm/px ({atMax:N0} images, e.g. {known[^1].Path})");
                throw new MixedScaleDatasetException(min, max, problem, $"{problem}; use images of one scale, or give their µm/px to override the recorded ones");
            }

            return (null, DatasetMppSource.Mixed);
        }

        // rounded to 1e-6 µm: TIFF writers store px/cm or px/inch, so 0.84 reads back as 0.8400001509...
        double median = Math.Round(known.Length % 2 == 1 ? known[known.Length / 2].Mpp!.Value
            : (known[known.Length / 2 - 1].Mpp!.Value + known[known.Length / 2].Mpp!.Value) / 2, 6);
        foreach (var item in items)
        {
            string name = Path.GetFileName(item.Path);
            if (item.Mpp is not { } recorded)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.MissingMpp, item.Path,
                    string.Create(inv, $"{name}: records no µm/px; the dataset's {median:0.###} (from {known.Length:N0} images) is assumed")));
            }
            else if (Math.Abs(recorded / median - 1) > MppTolerance)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.DifferentMpp, item.Path,
                    string.Create(inv, $"{name}: records {recorded:0.####} µm/px, {(recorded / median - 1) * 100:+0.#;-0.#} % off the dataset's {median:0.###}; used at {median:0.###}")));
            }
        }

        return (median, DatasetMppSource.ImageFiles);
    }

    private static string EmptyMessage(IReadOnlyList<string> paths, List<DatasetProblem> problems)
    {
        string where = string.Join(", ", paths);
        if (problems.Count == 0)
        {
            return $"no images found in {where}";
        }

        var byKind = problems.GroupBy(p => p.Kind).Select(g => $"{g.Count()} {Describe(g.Key)}");
        return $"no labelled images in {where} ({string.Join(", ", byKind)}; first: {problems[0].Message})";
    }

    /// <summary>A short plural phrase for a problem kind, for summaries.</summary>
    public static string Describe(DatasetProblemKind kind) => kind switch
    {
        DatasetProblemKind.SkippedNonImage => "non-image files skipped",
        DatasetProblemKind.UnreadableImage => "unreadable images",
        DatasetProblemKind.SmallerThanUsual => "images smaller than usual",
        DatasetProblemKind.Unlabelled => "images without a label (not in a class folder)",
        DatasetProblemKind.LabelConflict => "folder/name label conflicts (name wins)",
        DatasetProblemKind.MissingFile => "manifest rows whose file is missing",
        DatasetProblemKind.DuplicateEntry => "files listed twice",
        DatasetProblemKind.EmptyFolder => "folders without any image (empty classes)",
        DatasetProblemKind.MissingMpp => "images without a recorded µm/px (the dataset's is assumed)",
        DatasetProblemKind.DifferentMpp => "images whose µm/px differs from the dataset's by more than 1 % (used at the dataset's)",
        DatasetProblemKind.NotRegularFile => "FIFOs, sockets or devices skipped unopened",
        _ => kind.ToString(),
    };

    private static void ScanFolder(string root, int sourceIndex, DatasetLoadOptions options, List<Candidate> candidates,
        List<DatasetProblem> problems, List<string> scannedRoots, CancellationToken cancellationToken)
    {
        // A folder holding nothing but one folder that is not itself a class folder of images (e.g. a download folder
        // around Photos/<class>/) is entered.
        while (!Directory.EnumerateFiles(root).Any() && Directory.GetDirectories(root) is [string only]
               && !Directory.EnumerateFiles(only).Any(SlideFormats.IsImageFile))
        {
            root = only;
        }

        scannedRoots.Add(root);

        var enumeration = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        var files = Directory.EnumerateFiles(root, "*", enumeration).Order(StringComparer.Ordinal).ToList();
        foreach (string file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!SlideFormats.IsImageFile(file))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.SkippedNonImage, file, $"{Path.GetRelativePath(root, file)}: not an image file, skipped"));
                continue;
            }

            if (NotRegular(file, Path.GetRelativePath(root, file)) is { } special)
            {
                problems.Add(special);
                continue;
            }

            string relative = Path.GetRelativePath(root, file);
            string[] folders = relative.Split(Path.DirectorySeparatorChar)[..^1];
            var candidate = FromName(file, sourceIndex, options);
            if (candidate != null)
            {
                NoteConflict(candidate, folders, options, problems);
                candidates.Add(candidate);
            }
            else if (folders.Length == 0)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.Unlabelled, file,
                    $"{relative}: not inside a class folder and no known naming scheme, skipped"));
            }
            else
            {
                string label = folders[0];
                string source = NamingSchemes.SourceImageIdOf(file);
                candidates.Add(new Candidate(file, label, BachClasses.CodeOfName(label), "image:" + source, GroupKind.SourceImage,
                    source, sourceIndex, "class-folders"));
            }
        }

        // An empty class folder (a failed or unfinished copy) would otherwise vanish from the report without a word.
        foreach (string folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(folder);
            if (!name.StartsWith('.') && !Directory.EnumerateFiles(folder, "*", enumeration).Any(SlideFormats.IsImageFile))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.EmptyFolder, folder, $"{name}/: no image inside, so no class '{name}' from it"));
            }
        }
    }

    /// <summary>The note for a path that is not a regular file (it is never opened), or null for a regular file.</summary>
    private static DatasetProblem? NotRegular(string file, string shown)
    {
        var kind = IO.InputFile.KindOf(file);
        return kind == IO.InputFileKind.Regular ? null
            : new DatasetProblem(DatasetProblemKind.NotRegularFile, file, $"{shown}: {IO.InputFile.Describe(kind)}, not a regular file: skipped unopened");
    }

    /// <summary>A candidate from a naming scheme (IDC, BreakHis), or null when the name follows none.</summary>
    private static Candidate? FromName(string file, int sourceIndex, DatasetLoadOptions options)
    {
        string name = Path.GetFileName(file);
        if (NamingSchemes.TryParseIdc(name) is { } idc)
        {
            string label = NamingSchemes.IdcClassNames[idc.ClassLabel];
            return new Candidate(file, label, idc.ClassLabel == 1 ? 3 : 0, "idc:" + idc.PatientId, GroupKind.Patient,
                "idc:" + idc.PatientId, sourceIndex, "idc");
        }

        if (NamingSchemes.TryParseBreakHis(name) is { } breakHis)
        {
            string label = options.BreakHisLabeling == BreakHisLabeling.Subtype ? breakHis.Subtype : breakHis.Label;
            return new Candidate(file, label, null, "breakhis:" + breakHis.PatientId, GroupKind.Patient,
                "breakhis:" + Path.GetFileNameWithoutExtension(name), sourceIndex, "breakhis");
        }

        return null;
    }

    private static void NoteConflict(Candidate candidate, string[] folders, DatasetLoadOptions options, List<DatasetProblem> problems)
    {
        IReadOnlyList<string> schemeLabels = candidate.Scheme switch
        {
            "idc" => NamingSchemes.IdcClassNames,
            _ when options.BreakHisLabeling == BreakHisLabeling.Subtype => NamingSchemes.BreakHisSubtypeNames,
            _ => NamingSchemes.BreakHisLabels,
        };
        foreach (string folder in folders)
        {
            if (!string.Equals(folder, candidate.Label, StringComparison.OrdinalIgnoreCase)
                && schemeLabels.Contains(folder, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.LabelConflict, candidate.Path,
                    $"{Path.GetFileName(candidate.Path)} is in folder '{folder}' but its name says '{candidate.Label}': the name wins"));
                return;
            }
        }
    }

    private static void ReadManifest(string manifest, int sourceIndex, DatasetLoadOptions options, List<Candidate> candidates, List<DatasetProblem> problems)
    {
        string dir = Path.GetDirectoryName(manifest) ?? ".";
        foreach (var row in CsvManifest.Read(manifest))
        {
            string file = Path.GetFullPath(Path.Combine(dir, row.Path));
            string where = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(manifest)} line {row.LineNumber}");
            if (!SlideFormats.IsImageFile(file))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.SkippedNonImage, file, $"{where}: {row.Path} is not an image file, skipped"));
                continue;
            }

            if (IO.InputFile.KindOf(file) == IO.InputFileKind.Missing)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.MissingFile, file, $"{where}: {row.Path} not found, skipped"));
                continue;
            }

            if (NotRegular(file, $"{where}: {row.Path}") is { } special)
            {
                problems.Add(special);
                continue;
            }

            var named = FromName(file, sourceIndex, options);
            string source = named?.SourceImageId ?? NamingSchemes.SourceImageIdOf(file);
            var (group, kind) = row.Group is { } g ? ("csv:" + g, GroupKind.ManifestGroup)
                : named is not null ? (named.Group, named.GroupKind)
                : ("image:" + source, GroupKind.SourceImage);
            candidates.Add(new Candidate(file, row.Label, BachClasses.CodeOfName(row.Label), group, kind, source, sourceIndex, "csv"));
        }
    }

    private static List<Candidate> RemoveDuplicates(List<Candidate> candidates, List<DatasetProblem> problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<Candidate>(candidates.Count);
        foreach (var c in candidates)
        {
            if (seen.Add(c.Path))
            {
                result.Add(c);
            }
            else
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.DuplicateEntry, c.Path, $"{c.Path} is listed more than once; kept once"));
            }
        }

        return result;
    }

    /// <summary>Size and recorded µm/px of each candidate from its header (null when unreadable, noted as a problem).</summary>
    private static (int W, int H, double? Mpp)?[] ReadHeaders(List<Candidate> candidates, DatasetLoadOptions options, List<DatasetProblem> problems,
        IProgress<DatasetProgress>? progress, CancellationToken cancellationToken)
    {
        const string stage = "reading image sizes";
        var sizes = new (int W, int H, double? Mpp)?[candidates.Count];
        var failures = new ConcurrentBag<(int Index, string Message)>();
        int done = 0;
        progress?.Report(new DatasetProgress(stage, 0, candidates.Count));
        Parallel.For(0, candidates.Count,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelism) },
            i =>
            {
                string path = candidates[i].Path;
                try
                {
                    var (w, h) = options.VerifyImages ? Decoded(path) : ImageSizeReader.ReadSize(path);
                    // only TIFFs carry a resolution this reads: other files are not opened a second time
                    sizes[i] = (w, h, SlideFormats.IsTiffFile(path) ? ImageFileResolution.TryReadMpp(path) : null);
                }
                catch (ImageFormatException e)
                {
                    failures.Add((i, e.Message));
                }

                int n = Interlocked.Increment(ref done);
                if (progress != null && (n % 256 == 0 || n == candidates.Count))
                {
                    progress.Report(new DatasetProgress(stage, n, candidates.Count));
                }
            });
        foreach (var (index, message) in failures.OrderBy(f => f.Index))
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.UnreadableImage, candidates[index].Path,
                message.StartsWith(candidates[index].Path, StringComparison.Ordinal) ? message + ", left out" : $"{candidates[index].Path}: {message}, left out"));
        }

        return sizes;
    }

    private static (int W, int H) Decoded(string path)
    {
        var image = ImageIO.Load(path);
        return (image.Width, image.Height);
    }

    private static List<DatasetClass> BuildClasses(IEnumerable<Candidate> candidates)
    {
        var byName = new Dictionary<string, DatasetClass>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in candidates)
        {
            if (!byName.TryGetValue(c.Label, out var existing))
            {
                byName[c.Label] = new DatasetClass(c.Label, c.BachCode);
            }
            else if (existing.BachCode is null && c.BachCode is not null)
            {
                byName[c.Label] = existing with { BachCode = c.BachCode };
            }
        }

        var classes = byName.Values.ToList();
        bool bachOrder = classes.All(c => c.BachCode is not null) && classes.Select(c => c.BachCode).Distinct().Count() == classes.Count;
        if (bachOrder)
        {
            classes.Sort((a, b) => a.BachCode!.Value.CompareTo(b.BachCode!.Value));
        }
        else
        {
            classes.Sort((a, b) => NaturalCompare(a.Name, b.Name));
        }

        return classes;
    }

    private static int IndexOf(List<DatasetClass> classes, string label)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i].Name, label, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"class {label} missing");
    }

    /// <summary>Numbers by value first, then names ignoring case.</summary>
    private static int NaturalCompare(string a, string b)
    {
        bool aNumber = long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out long x);
        bool bNumber = long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long y);
        if (aNumber && bNumber)
        {
            return x.CompareTo(y);
        }

        if (aNumber != bNumber)
        {
            return aNumber ? -1 : 1;
        }

        int c = string.Compare(a, b, StringComparison.OrdinalIgnoreCase);
        return c != 0 ? c : string.CompareOrdinal(a, b);
    }
}
