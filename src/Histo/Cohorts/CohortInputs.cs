using Histo.Slides;

namespace Histo.Cohorts;

/// <summary>A shard of a cohort: this job's index (0-based) among <see cref="Count"/> jobs.</summary>
/// <param name="Index">0-based index of this shard.</param>
/// <param name="Count">Number of shards.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole cohort in one job.</summary>
    public static Shard All => new(0, 1);

    /// <summary>
    /// Parses <c>i/n</c> (0-based i, as Kubernetes' JOB_COMPLETION_INDEX and Slurm's SLURM_ARRAY_TASK_ID with
    /// --array=0-(n-1) give it).
    /// </summary>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
        {
            throw new InvalidParameterException(HistoParameter.Shard, $"a shard must be i/n with 0 <= i < n (e.g. 0/4), got '{text}'");
        }

        return new Shard(i, n);
    }

    /// <summary>True when the item at position <paramref name="position"/> of the sorted cohort belongs to this shard.</summary>
    public bool Contains(int position) => position % Count == Index;
}

/// <summary>Expands the slide argument of cohort commands: one slide, a folder of slides, or a text file listing them.</summary>
public static class CohortInputs
{
    /// <summary>
    /// The slides named by <paramref name="input"/>, sorted by path (so every shard sees the same order), and
    /// the ones this <paramref name="shard"/> owns. A .txt file lists one path per line (relative to the list;
    /// blank lines and lines starting with # skipped).
    /// </summary>
    public static IReadOnlyList<string> Expand(string input, Shard shard)
    {
        ArgumentNullException.ThrowIfNull(input);
        List<string> all;
        if (Directory.Exists(input))
        {
            all = [.. SlideFormats.FindSlideFiles(input, recursive: false)];
            if (all.Count == 0)
            {
                throw new HistoException($"{input}: no slides found in the folder (looked for {SlideFormats.Listing})");
            }
        }
        else if (File.Exists(input) && Path.GetExtension(input).Equals(".txt", StringComparison.OrdinalIgnoreCase))
        {
            string baseDir = Path.GetDirectoryName(Path.GetFullPath(input)) ?? ".";
            all = IO.InputFile.ReadAllText(input, 64L << 20, "a slide list").Split('\n')
                .Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith('#'))
                .Select(l => Path.IsPathRooted(l) ? l : Path.GetFullPath(Path.Combine(baseDir, l)))
                .ToList();
            if (all.Count == 0)
            {
                throw new HistoException($"{input}: the list names no slides");
            }
        }
        else if (File.Exists(input))
        {
            all = [input];
        }
        else
        {
            throw new HistoException($"{input}: file not found");
        }

        all.Sort(StringComparer.Ordinal);
        if (all.Distinct(StringComparer.Ordinal).Count() != all.Count)
        {
            throw new HistoException($"{input}: the same slide is listed twice");
        }

        var names = all.GroupBy(SlideFormats.SlideName, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (names.Count > 0)
        {
            throw new HistoException($"{input}: several slides share the output name '{names[0]}' (outputs are written to OUT/<slide name>/)");
        }

        return all.Where((_, i) => shard.Contains(i)).ToList();
    }
}
