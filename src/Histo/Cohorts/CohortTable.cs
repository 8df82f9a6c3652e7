using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Histo.IO;
using Histo.Outputs;
using Histo.Slides;

namespace Histo.Cohorts;

/// <summary>One class's figures in a cohort row.</summary>
/// <param name="Name">Class name.</param>
/// <param name="AreaMm2">Area in mm² (null when the slide's MPP is unknown).</param>
/// <param name="Fraction">Fraction of the tissue.</param>
public readonly record struct CohortClassArea(string Name, double? AreaMm2, double? Fraction);

/// <summary>One slide of the cohort table, as the records on disk say.</summary>
/// <param name="Slide">Slide name (its output folder's name).</param>
/// <param name="Status"><see cref="SlideStatus.Done"/>, <see cref="SlideStatus.Failed"/> or <see cref="SlideStatus.Pending"/>.</param>
/// <param name="Model">Name of the model that made the outputs (or failed).</param>
/// <param name="ModelId">Hash of that model's weights and card (null when not recorded).</param>
/// <param name="SoftwareVersion">Histo version that wrote the record.</param>
/// <param name="Seconds">Wall seconds of the slide's run.</param>
/// <param name="PatchCount">Patches classified.</param>
/// <param name="TissueAreaMm2">Tissue (region of interest) area in mm².</param>
/// <param name="Classes">Figures per class, in the model's class order.</param>
/// <param name="Error">Why the slide failed.</param>
public sealed record CohortRow(string Slide, SlideStatus Status, string? Model, string? ModelId, string? SoftwareVersion, double? Seconds, int? PatchCount,
    double? TissueAreaMm2, IReadOnlyList<CohortClassArea> Classes, string? Error);

/// <summary>A model that made finished slides of the cohort.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Id">Hash of its weights and card (null when not recorded).</param>
/// <param name="SoftwareVersions">Histo versions that ran it.</param>
/// <param name="SlideCount">Finished slides it made.</param>
public sealed record CohortModel(string Name, string? Id, IReadOnlyList<string> SoftwareVersions, int SlideCount);

/// <summary>
/// The cohort table of an output folder, a view of what is on disk: a slide is done when its output folder is complete
/// (<c>OUT/&lt;slide&gt;/summary.json</c>), failed when <c>OUT/&lt;slide&gt;.failed.json</c> records
/// a failure (removed when the slide later succeeds), and pending when a run was asked for it
/// (<c>OUT/.cohort-slides.txt</c>) and it is neither. <see cref="Update"/> rewrites <c>OUT/cohort.csv</c> from that under a
/// lock, so runs that end at once (shards) never lose or corrupt a row.
/// </summary>
public sealed class CohortTable
{
    /// <summary>File name of the cohort table.</summary>
    public const string CsvFileName = "cohort.csv";

    /// <summary>Suffix of a slide's failure record: <c>OUT/&lt;slide&gt;.failed.json</c>.</summary>
    public const string FailureSuffix = ".failed.json";

    /// <summary>The slide names runs into the folder were asked for, one per line.</summary>
    public const string SlideListFileName = ".cohort-slides.txt";

    private const string LockFileName = ".cohort.lock";

    private CohortTable(IReadOnlyList<CohortRow> rows, IReadOnlyList<string> classNames)
    {
        Rows = rows;
        ClassNames = classNames;
        Models = rows.Where(r => r.Status == SlideStatus.Done && r.Model != null)
            .GroupBy(r => (r.Model!, r.ModelId))
            .Select(g => new CohortModel(g.Key.Item1, g.Key.ModelId, g.Select(r => r.SoftwareVersion ?? "unknown").Distinct().Order(StringComparer.Ordinal).ToList(), g.Count()))
            .OrderByDescending(m => m.SlideCount).ThenBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Id, StringComparer.Ordinal)
            .ToList();
        SlidesFromOtherModels = Models.Count < 2
            ? []
            : rows.Where(r => r.Status == SlideStatus.Done && (r.Model, r.ModelId) != (Models[0].Name, Models[0].Id)).Select(r => r.Slide).ToList();
    }

    /// <summary>One row per slide, sorted by name.</summary>
    public IReadOnlyList<CohortRow> Rows { get; }

    /// <summary>The class columns, in order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The models that made the finished slides, the one that made most first.</summary>
    public IReadOnlyList<CohortModel> Models { get; }

    /// <summary>Finished slides made by another model than the first of <see cref="Models"/>.</summary>
    public IReadOnlyList<string> SlidesFromOtherModels { get; }

    /// <summary>Finished slides.</summary>
    public int DoneCount => Rows.Count(r => r.Status == SlideStatus.Done);

    /// <summary>Failed slides.</summary>
    public int FailedCount => Rows.Count(r => r.Status == SlideStatus.Failed);

    /// <summary>Slides asked for and neither finished nor failed.</summary>
    public int PendingCount => Rows.Count(r => r.Status == SlideStatus.Pending);

    /// <summary>The failure record of a slide.</summary>
    public static string FailurePath(string outputRoot, string slideName) => Path.Combine(outputRoot, slideName + FailureSuffix);

    /// <summary>Reads the table from the records under <paramref name="outputRoot"/> (writes nothing).</summary>
    /// <param name="outputRoot">The output folder.</param>
    /// <param name="leadingClasses">Class columns to put first (e.g. the current model's); others follow as found.</param>
    /// <exception cref="HistoException">The folder does not exist.</exception>
    public static CohortTable Read(string outputRoot, IReadOnlyList<string>? leadingClasses = null)
    {
        ArgumentNullException.ThrowIfNull(outputRoot);
        if (!Directory.Exists(outputRoot))
        {
            throw new HistoException($"{outputRoot}: output folder not found");
        }

        var rows = new Dictionary<string, CohortRow>(StringComparer.Ordinal);
        foreach (string dir in Directory.EnumerateDirectories(outputRoot))
        {
            string name = Path.GetFileName(dir);
            if (!name.StartsWith('.') && File.Exists(Path.Combine(dir, SlideOutputs.Summary)))
            {
                rows[name] = ReadDone(name, dir);
            }
        }

        foreach (string file in Directory.EnumerateFiles(outputRoot, "*" + FailureSuffix))
        {
            string name = Path.GetFileName(file)[..^FailureSuffix.Length];
            if (name.Length > 0 && !name.StartsWith('.'))
            {
                // A failure record outlives a finished folder only when a later (--force) run of the slide failed.
                rows[name] = ReadFailure(name, file);
            }
        }

        string list = Path.Combine(outputRoot, SlideListFileName);
        if (File.Exists(list))
        {
            foreach (string name in File.ReadAllLines(list).Where(l => l.Length > 0))
            {
                rows.TryAdd(name, new CohortRow(name, SlideStatus.Pending, null, null, null, null, null, null, [], null));
            }
        }

        var ordered = rows.Values.OrderBy(r => r.Slide, StringComparer.Ordinal).ToList();
        var classes = new List<string>(leadingClasses ?? []);
        foreach (var c in ordered.SelectMany(r => r.Classes))
        {
            if (!classes.Contains(c.Name))
            {
                classes.Add(c.Name);
            }
        }

        return new CohortTable(ordered, classes);
    }

    /// <summary>
    /// Under the folder's lock: adds <paramref name="slideNames"/> to the slides asked for, reads the table and rewrites
    /// <c>OUT/cohort.csv</c> atomically from it.
    /// </summary>
    /// <exception cref="HistoException">The folder does not exist, or its lock stays taken for <paramref name="lockTimeout"/> (default 10 minutes).</exception>
    public static CohortTable Update(string outputRoot, IEnumerable<string> slideNames, IReadOnlyList<string>? leadingClasses = null, TimeSpan? lockTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(outputRoot);
        ArgumentNullException.ThrowIfNull(slideNames);
        if (!Directory.Exists(outputRoot))
        {
            throw new HistoException($"{outputRoot}: output folder not found");
        }

        using (Lock(outputRoot, lockTimeout ?? TimeSpan.FromMinutes(10)))
        {
            string list = Path.Combine(outputRoot, SlideListFileName);
            var known = File.Exists(list) ? File.ReadAllLines(list).Where(l => l.Length > 0).ToList() : [];
            var added = slideNames.Where(n => !known.Contains(n, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
            if (added.Count > 0)
            {
                AtomicFile.WriteAllText(list, string.Concat(known.Concat(added).Order(StringComparer.Ordinal).Select(n => n + "\n")));
            }

            var table = Read(outputRoot, leadingClasses);
            AtomicFile.WriteAllText(Path.Combine(outputRoot, CsvFileName), table.ToCsv());
            return table;
        }
    }

    /// <summary>
    /// The table as CSV: slide, status (done/failed/pending), tissue_mm2, <c>&lt;class&gt;_mm2</c> and
    /// <c>&lt;class&gt;_fraction</c> per class, patch_count, seconds, model, model_id, software_version, error.
    /// </summary>
    public string ToCsv()
    {
        var text = new StringBuilder("slide,status,tissue_mm2");
        foreach (string name in ClassNames)
        {
            text.Append(',').Append(SlideOutputs.CsvField(name + "_mm2"));
        }

        foreach (string name in ClassNames)
        {
            text.Append(',').Append(SlideOutputs.CsvField(name + "_fraction"));
        }

        text.Append(",patch_count,seconds,model,model_id,software_version,error\n");
        foreach (var r in Rows)
        {
            text.Append(SlideOutputs.CsvField(r.Slide)).Append(',').Append(StatusName(r.Status)).Append(',').Append(Format(r.TissueAreaMm2));
            var byName = r.Classes.ToDictionary(c => c.Name, StringComparer.Ordinal);
            foreach (string name in ClassNames)
            {
                text.Append(',').Append(byName.TryGetValue(name, out var c) ? Format(c.AreaMm2) : "");
            }

            foreach (string name in ClassNames)
            {
                text.Append(',').Append(byName.TryGetValue(name, out var c) ? Format(c.Fraction) : "");
            }

            text.Append(',').Append(r.PatchCount?.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append(r.Seconds?.ToString("0.##", CultureInfo.InvariantCulture))
                .Append(',').Append(Field(r.Model))
                .Append(',').Append(Field(r.ModelId))
                .Append(',').Append(Field(r.SoftwareVersion))
                .Append(',').Append(Field(r.Error))
                .Append('\n');
        }

        return text.ToString();

        static string Format(double? v) => v?.ToString("0.######", CultureInfo.InvariantCulture) ?? "";
        static string Field(string? v) => v is null ? "" : SlideOutputs.CsvField(v);
    }

    /// <summary>The status as the table spells it.</summary>
    public static string StatusName(SlideStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>Records that a slide failed (atomically; replaces an earlier record).</summary>
    public static void RecordFailure(string outputRoot, string slidePath, string error, SlideProvenance provenance, double seconds)
    {
        ArgumentNullException.ThrowIfNull(slidePath);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(provenance);
        string name = SlideFormats.SlideName(slidePath);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("slide", name);
            w.WriteString("slide_path", Path.GetFullPath(slidePath));
            w.WriteString("status", StatusName(SlideStatus.Failed));
            w.WriteString("error", error);
            w.WriteNumber("seconds", Math.Round(seconds, 3));
            w.WriteString("software_version", SlideProvenance.SoftwareVersion);
            w.WriteStartObject("model");
            w.WriteString("name", provenance.ModelName);
            if (provenance.ModelId is { } id)
            {
                w.WriteString("id", id);
            }

            w.WriteEndObject();
            w.WriteString("failed_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        AtomicFile.WriteAllBytes(FailurePath(outputRoot, name), buffer.ToArray());
    }

    /// <summary>Removes a slide's failure record, if any (after it succeeded).</summary>
    public static void ClearFailure(string outputRoot, string slidePath) => File.Delete(FailurePath(outputRoot, SlideFormats.SlideName(slidePath)));

    private static CohortRow ReadDone(string name, string dir)
    {
        string summaryPath = Path.Combine(dir, SlideOutputs.Summary);
        try
        {
            using var doc = JsonDocument.Parse(IO.InputFile.ReadAllText(summaryPath, 64L << 20, "a summary.json"));
            var root = doc.RootElement;
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            var classes = new List<CohortClassArea>();
            if (root.TryGetProperty("classes", out var cs) && cs.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in cs.EnumerateArray())
                {
                    classes.Add(new CohortClassArea(e.GetProperty("name").GetString() ?? "", Number(e, "area_mm2"), Number(e, "fraction_of_tissue")));
                }
            }

            double? seconds = root.TryGetProperty("run", out var run) ? Number(run, "wall_seconds") : null;
            return new CohortRow(name, SlideStatus.Done, Text(model, "name"), Text(model, "id"), Text(root, "software_version"), seconds,
                root.TryGetProperty("patch_count", out var p) && p.TryGetInt32(out int count) ? count : null, Number(root, "tissue_area_mm2"), classes, null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException or HistoException)
        {
            return new CohortRow(name, SlideStatus.Failed, null, null, null, null, null, null, [], $"{summaryPath}: unreadable ({e.Message})");
        }
    }

    private static CohortRow ReadFailure(string name, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(IO.InputFile.ReadAllText(path, 1L << 20, "a failure record"));
            var root = doc.RootElement;
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            return new CohortRow(name, SlideStatus.Failed, Text(model, "name"), Text(model, "id"), Text(root, "software_version"), Number(root, "seconds"), null, null, [],
                Text(root, "error") ?? "failed (no message recorded)");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException or HistoException)
        {
            return new CohortRow(name, SlideStatus.Failed, null, null, null, null, null, null, [], $"{path}: unreadable failure record ({e.Message})");
        }
    }

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Takes the folder's lock (an exclusive open of <c>OUT/.cohort.lock</c>; the system drops it when the process dies, kill -9 included).</summary>
    private static FileStream Lock(string outputRoot, TimeSpan timeout)
    {
        string path = Path.Combine(outputRoot, LockFileName);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(20 + Random.Shared.Next(30));
            }
            catch (IOException e)
            {
                throw new HistoException($"{path}: still locked by another run after {timeout.TotalSeconds:0} s", e);
            }
        }
    }
}
