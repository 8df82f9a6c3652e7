using System.Globalization;
using Histo.Imaging;
using Histo.IO;
using Histo.Maps;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Patches;

/// <summary>Settings of <see cref="PatchExporter"/>.</summary>
public sealed record PatchExportOptions
{
    /// <summary>Target resolution of the patches (default level 0).</summary>
    public Resolution Resolution { get; init; } = Resolution.Native;

    /// <summary>Patch side in pixels at the target resolution (default 256).</summary>
    public int SizePixels { get; init; } = 256;

    /// <summary>Stride in pixels at the target resolution; null = the patch size (no overlap).</summary>
    public int? StridePixels { get; init; }

    /// <summary>Patches with a smaller tissue fraction are skipped (default 0.05, the seed's 5 %).</summary>
    public double MinTissueFraction { get; init; } = 0.05;

    /// <summary>Tissue detection settings.</summary>
    public TissueOptions Tissue { get; init; } = new();

    /// <summary>How a patch label is derived from a label mask.</summary>
    public LabelRule LabelRule { get; init; } = LabelRule.RoundedMean;

    /// <summary>Patches read and encoded at once (default: the number of cores).</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>Progress of an export: the slide being cut and how far along its grid.</summary>
/// <param name="Slide">File name of the current slide.</param>
/// <param name="SlideIndex">0-based index of the current slide.</param>
/// <param name="SlideCount">Number of slides.</param>
/// <param name="PositionsDone">Grid positions of this slide visited so far (kept or skipped).</param>
/// <param name="PositionCount">Grid positions of this slide.</param>
/// <param name="PatchesWritten">Patches written so far, over all slides.</param>
public readonly record struct PatchProgress(string Slide, int SlideIndex, int SlideCount, long PositionsDone, long PositionCount, long PatchesWritten);

/// <summary>What was cut from one slide.</summary>
/// <param name="Slide">The slide's file name.</param>
/// <param name="Directory">Folder name (under the output directory) holding its patches.</param>
/// <param name="PatchCount">Patches written.</param>
/// <param name="PositionCount">Grid positions before the tissue filter.</param>
/// <param name="TissueFraction">Tissue fraction of the whole slide.</param>
/// <param name="Resolution">The resolution as resolved on this slide.</param>
/// <param name="Warnings">Fallbacks and findings to tell the user (no MPP, no tissue, ...).</param>
public sealed record SlidePatchSummary(string Slide, string Directory, long PatchCount, long PositionCount, double TissueFraction,
    ResolvedResolution Resolution, IReadOnlyList<HistoWarning> Warnings);

/// <summary>What an export wrote.</summary>
/// <param name="OutputDirectory">The output directory.</param>
/// <param name="CsvPath">The CSV listing every patch.</param>
/// <param name="Slides">One summary per slide.</param>
public sealed record PatchExportSummary(string OutputDirectory, string CsvPath, IReadOnlyList<SlidePatchSummary> Slides)
{
    /// <summary>Patches written over all slides.</summary>
    public long PatchCount => Slides.Sum(s => s.PatchCount);
}

/// <summary>
/// Cuts patches from slides or images into PNG files plus one CSV (<c>patches.csv</c>: slide, file, level-0 x/y/size,
/// output size, tissue fraction, label, labelled fraction). Everything is written into a hidden staging folder inside
/// the output directory and moved into place only when all slides succeeded, so a failure or cancellation leaves no
/// partial output. Each slide's patches go to a folder named after the slide (replacing one from an earlier run).
/// </summary>
public sealed class PatchExporter
{
    /// <summary>Name of the CSV in the output directory.</summary>
    public const string CsvFileName = "patches.csv";

    private const int BatchSize = 64;

    /// <summary>Creates an exporter; the options are validated here.</summary>
    public PatchExporter(PatchExportOptions? options = null)
    {
        Options = options ?? new PatchExportOptions();
        Options.Tissue.Validate();
        if (Options.MaxParallelism < 1)
        {
            throw new InvalidParameterException($"parallelism must be at least 1, got {Options.MaxParallelism}");
        }

        // Validates size, stride and tissue fraction with the grid's own rules.
        _ = new PatchGrid(1, 1, 1, Options.SizePixels, Options.StridePixels, null, Options.MinTissueFraction);
    }

    /// <summary>The settings in use.</summary>
    public PatchExportOptions Options { get; }

    /// <summary>
    /// The slides named by <paramref name="path"/>: the file itself, or the slide and image files in a folder and its
    /// sub-folders (sorted by path; hidden files and folders and <paramref name="excludeDirectory"/>, typically the
    /// output, are skipped). A missing path or a folder without slides raises <see cref="HistoException"/>.
    /// </summary>
    public static IReadOnlyList<string> FindInputs(string path, string? excludeDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return [path];
        }

        if (!Directory.Exists(path))
        {
            throw new SlideOpenException(path, $"{path}: file or folder not found");
        }

        var files = SlideFormats.FindSlideFiles(System.IO.Path.GetFullPath(path), recursive: true, excludeDirectory);
        if (files.Count == 0)
        {
            throw new HistoException($"{path}: no slides or images in this folder or below (looked for {SlideFormats.Listing})");
        }

        return files;
    }

    /// <summary>
    /// Exports the patches of every slide in <paramref name="slidePaths"/> into <paramref name="outputDirectory"/>
    /// (created if missing). <paramref name="labelMaskPath"/> (an 8-bit grey PNG over the whole slide, loaded with
    /// <see cref="RasterMask.Load"/>) labels the patches and needs exactly one slide.
    /// </summary>
    public PatchExportSummary Export(IReadOnlyList<string> slidePaths, string outputDirectory, string? labelMaskPath = null,
        IProgress<PatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slidePaths);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        if (slidePaths.Count == 0)
        {
            throw new InvalidParameterException("no slides to cut patches from");
        }

        if (labelMaskPath != null && slidePaths.Count != 1)
        {
            throw new InvalidParameterException($"a label mask belongs to one slide, but {slidePaths.Count} slides were given");
        }

        if (File.Exists(outputDirectory))
        {
            throw new InvalidParameterException($"{outputDirectory} is a file, not a directory");
        }

        bool created = !Directory.Exists(outputDirectory);
        AtomicFile.CreateOutputDirectory(outputDirectory);
        bool succeeded = false;
        string staging = System.IO.Path.Combine(outputDirectory, $".histo-patches.tmp-{Guid.NewGuid():N}");
        AtomicFile.CreateOutputDirectory(staging);
        try
        {
            var summaries = new List<SlidePatchSummary>();
            var usedNames = new HashSet<string>(StringComparer.Ordinal);
            long written = 0;
            string stagedCsv = System.IO.Path.Combine(staging, CsvFileName);
            using (var csv = new PatchCsvWriter(stagedCsv))
            {
                for (int i = 0; i < slidePaths.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var slide = Slide.Open(slidePaths[i]);
                    var labels = labelMaskPath is null ? null : RasterMask.Load(labelMaskPath, slide.Width, slide.Height);
                    string name = UniqueName(System.IO.Path.GetFileNameWithoutExtension(slidePaths[i]), usedNames);
                    int index = i;
                    long before = written;
                    var slideProgress = progress is null ? null : new RelayProgress(p =>
                        progress.Report(new PatchProgress(System.IO.Path.GetFileName(slidePaths[index]), index, slidePaths.Count, p.Done, p.Count, before + p.Written)));
                    var summary = WriteSlidePatches(slide, labels, System.IO.Path.Combine(staging, name), csv, slideProgress, cancellationToken);
                    written += summary.PatchCount;
                    summaries.Add(summary);
                }
            }

            foreach (var summary in summaries)
            {
                string target = System.IO.Path.Combine(outputDirectory, summary.Directory);
                if (Directory.Exists(target))
                {
                    Directory.Delete(target, recursive: true);
                }

                Directory.Move(System.IO.Path.Combine(staging, summary.Directory), target);
            }

            string csvPath = System.IO.Path.Combine(outputDirectory, CsvFileName);
            File.Move(stagedCsv, csvPath, overwrite: true);
            succeeded = true;
            return new PatchExportSummary(outputDirectory, csvPath, summaries);
        }
        finally
        {
            TryDeleteDirectory(staging);
            if (!succeeded && created && !Directory.EnumerateFileSystemEntries(outputDirectory).Any())
            {
                TryDeleteDirectory(outputDirectory);
            }
        }
    }

    /// <summary>
    /// Cuts one slide: detects tissue, walks the grid, writes each kept patch as PNG into <paramref name="directory"/>
    /// (created) and one CSV row per patch. <paramref name="labels"/>, when given, is a label mask over the slide
    /// (from a PNG or rasterised annotations). Progress reports (positions visited, positions in total, patches written).
    /// </summary>
    public SlidePatchSummary WriteSlidePatches(Slide slide, RasterMask? labels, string directory, PatchCsvWriter csv,
        IProgress<(long Done, long Count, long Written)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slide);
        ArgumentNullException.ThrowIfNull(csv);
        string slideName = System.IO.Path.GetFileName(slide.Path);
        var tissue = new TissueDetector(Options.Tissue).Detect(slide, null, cancellationToken);
        var grid = PatchGrid.ForSlide(slide, Options.Resolution, Options.SizePixels, Options.StridePixels, tissue.Mask, Options.MinTissueFraction);
        var warnings = new List<HistoWarning>(grid.Warnings);
        warnings.AddRange(tissue.Warnings.Select(w => w.Code == WarningCode.NoTissue ? w with { Message = $"{slideName}: {w.Message}" } : w));
        Directory.CreateDirectory(directory);
        string folder = System.IO.Path.GetFileName(directory);
        string stem = System.IO.Path.GetFileNameWithoutExtension(slide.Path);
        var batch = new List<PatchPosition>(BatchSize);
        long written = 0;

        void Flush(long visited)
        {
            var files = new string[batch.Count];
            ParallelWork.For(batch.Count, Options.MaxParallelism, cancellationToken, i =>
            {
                var p = batch[i];
                files[i] = string.Create(CultureInfo.InvariantCulture, $"{stem}_x{p.Level0X}_y{p.Level0Y}.png");
                var pixels = PatchReader.Read(slide, p, Options.SizePixels);
                File.WriteAllBytes(System.IO.Path.Combine(directory, files[i]), ImageIO.Encode(pixels, ".png"));
            });
            for (int i = 0; i < batch.Count; i++)
            {
                var p = batch[i];
                var label = labels is null ? (PatchLabel?)null : PatchLabels.Label(labels, p.Level0X, p.Level0Y, p.Level0Size, Options.LabelRule);
                csv.WriteRow(slideName, folder + "/" + files[i], p, Options.SizePixels, label);
            }

            written += batch.Count;
            batch.Clear();
            progress?.Report((visited, grid.PositionCount, written));
        }

        foreach (var position in grid)
        {
            cancellationToken.ThrowIfCancellationRequested();
            batch.Add(position);
            if (batch.Count == BatchSize)
            {
                // Positions visited so far: everything up to and including this grid cell.
                Flush((long)position.Row * grid.Columns + position.Column + 1);
            }
        }

        Flush(grid.PositionCount);
        if (written == 0 && !tissue.IsEmpty)
        {
            warnings.Add(new HistoWarning(WarningCode.NoPatchKept, string.Create(CultureInfo.InvariantCulture,
                $"{slideName}: no patch reached the minimum tissue fraction {Options.MinTissueFraction:0.###}")));
        }

        return new SlidePatchSummary(slideName, folder, written, grid.PositionCount, tissue.TissueFraction, grid.Resolution!, warnings);
    }

    private static string UniqueName(string stem, HashSet<string> used)
    {
        string safe = string.Concat(stem.Select(c => System.IO.Path.GetInvalidFileNameChars().Contains(c) ? '_' : c));
        if (safe.Length == 0 || safe.StartsWith('.'))
        {
            safe = "slide" + safe;
        }

        string name = safe;
        for (int n = 2; !used.Add(name); n++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{safe}-{n}");
        }

        return name;
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Synchronous progress relay (System.Progress posts to the thread pool and could reorder reports).</summary>
    private sealed class RelayProgress(Action<(long Done, long Count, long Written)> report) : IProgress<(long Done, long Count, long Written)>
    {
        public void Report((long Done, long Count, long Written) value) => report(value);
    }
}

/// <summary>Writes the patch CSV (header first); values use the invariant culture, text is quoted when needed.</summary>
public sealed class PatchCsvWriter : IDisposable
{
    /// <summary>The header line.</summary>
    public const string Header = "slide,file,level0_x,level0_y,level0_size,size_px,tissue_fraction,label,label_fraction";

    private readonly StreamWriter _writer;

    /// <summary>Creates (overwrites) the CSV at <paramref name="path"/> and writes the header.</summary>
    public PatchCsvWriter(string path)
    {
        _writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
        _writer.WriteLine(Header);
    }

    /// <summary>Appends one patch.</summary>
    public void WriteRow(string slide, string file, PatchPosition position, int sizePixels, PatchLabel? label)
    {
        var c = CultureInfo.InvariantCulture;
        _writer.Write(Quote(slide));
        _writer.Write(',');
        _writer.Write(Quote(file));
        _writer.Write(string.Create(c, $",{position.Level0X},{position.Level0Y},{position.Level0Size},{sizePixels},"));
        if (position.TissueFraction is { } t)
        {
            _writer.Write(t.ToString("0.####", c));
        }

        _writer.Write(',');
        if (label is { } l)
        {
            _writer.Write(string.Create(c, $"{l.Label},{l.LabelFraction:0.####}"));
        }
        else
        {
            _writer.Write(',');
        }

        _writer.WriteLine();
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose() => _writer.Dispose();

    private static string Quote(string s) => IO.CsvText.Field(s);
}
