using System.Numerics;

namespace Histo.Datasets;

/// <summary>Settings of <see cref="LeakChecker"/>.</summary>
public sealed record LeakCheckOptions
{
    /// <summary>Default Hamming distance at or below which two 64-bit pHashes are compared further.</summary>
    public const int DefaultHammingThreshold = 10;

    /// <summary>Largest threshold accepted.</summary>
    public const int MaxHammingThreshold = 16;

    /// <summary>Default thumbnail correlation at or above which a hash match is confirmed.</summary>
    public const double DefaultMinCorrelation = 0.95;

    /// <summary>
    /// Near-duplicate candidates: pHash Hamming distance at or below this (0-16). Default 10: a JPEG re-encode or a
    /// brightness change moves IDC patches by up to 8-10 bits.
    /// </summary>
    public int HammingThreshold { get; init; } = DefaultHammingThreshold;

    /// <summary>
    /// A candidate is a near-duplicate when the correlation of the two 16 x 16 grey thumbnails (after the matching
    /// flip or rotation) is at least this. Default 0.95: modified copies of IDC patches score 0.96-1.0, while
    /// different patients' patches that happen to share a hash prefix score at most about 0.9. Set 0 to rely on the
    /// hash alone.
    /// </summary>
    public double MinCorrelation { get; init; } = DefaultMinCorrelation;

    /// <summary>Also match flipped and right-angle-rotated copies (default true).</summary>
    public bool MatchFlipsAndRotations { get; init; } = true;

    /// <summary>Images whose grey standard deviation is below this (0-255 scale) are blank. Default 6.</summary>
    public double MinGreyStd { get; init; } = 6;

    /// <summary>Grey level above which a pixel counts as white (glass). Default 220.</summary>
    public double WhiteLevel { get; init; } = 220;

    /// <summary>Images with more than this fraction of white pixels are mostly background. Default 0.8.</summary>
    public double MaxWhiteFraction { get; init; } = 0.8;

    /// <summary>Images with a side shorter than this (slivers cut at a border, e.g. 50 x 1) carry no usable picture. Default 16.</summary>
    public int MinSidePixels { get; init; } = 16;

    /// <summary>At most this many examples of each kind are kept in the report (counts are always complete).</summary>
    public int MaxExamples { get; init; } = 1000;

    /// <summary>Degree of parallelism for hashing (default: all cores).</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>A group (or source image) whose items sit in more than one fold.</summary>
/// <param name="Group">The group or source-image id.</param>
/// <param name="Kind">What the id stands for.</param>
/// <param name="ItemsPerFold">Items of the group in each fold it appears in (fold → count).</param>
public sealed record GroupLeak(string Group, GroupKind Kind, IReadOnlyDictionary<int, int> ItemsPerFold);

/// <summary>Two images in different folds that are the same picture.</summary>
/// <param name="PathA">First image.</param>
/// <param name="FoldA">Its fold.</param>
/// <param name="PathB">Second image.</param>
/// <param name="FoldB">Its fold.</param>
/// <param name="HammingDistance">pHash distance (0 for exact duplicates).</param>
/// <param name="Correlation">Correlation of the grey thumbnails (1 for exact duplicates).</param>
/// <param name="Transform">Which flip or rotation of A matches B (<c>identity</c> when none).</param>
public sealed record DuplicatePair(string PathA, int FoldA, string PathB, int FoldB, int HammingDistance, double Correlation, string Transform);

/// <summary>The outcome of a leak check.</summary>
public sealed class LeakReport
{
    /// <summary>Number of images checked.</summary>
    public required int ItemCount { get; init; }

    /// <summary>Folds of the split.</summary>
    public required int FoldCount { get; init; }

    /// <summary>Seed of the split.</summary>
    public required int Seed { get; init; }

    /// <summary>Whether the split was made by group.</summary>
    public required bool Grouped { get; init; }

    /// <summary>Item, group and class counts per fold.</summary>
    public required IReadOnlyList<FoldSummary> Folds { get; init; }

    /// <summary>Groups (patients, manifest groups, source images standing in for patients) found in more than one fold.</summary>
    public required IReadOnlyList<GroupLeak> GroupLeaks { get; init; }

    /// <summary>
    /// Source images (the image patches were cut from) found in more than one fold although their patches were put
    /// in different groups (e.g. a manifest group column that splits one image). A source image within a single group
    /// that straddles folds is already counted in <see cref="GroupLeaks"/>.
    /// </summary>
    public required IReadOnlyList<GroupLeak> SourceImageLeaks { get; init; }

    /// <summary>Number of cross-fold exact duplicate pairs (same file bytes), low-information images excluded.</summary>
    public required int ExactDuplicateCount { get; init; }

    /// <summary>Examples of exact duplicate pairs (at most <see cref="LeakCheckOptions.MaxExamples"/>).</summary>
    public required IReadOnlyList<DuplicatePair> ExactDuplicates { get; init; }

    /// <summary>Number of cross-fold near-duplicate pairs that are not exact duplicates.</summary>
    public required int NearDuplicateCount { get; init; }

    /// <summary>Examples of near-duplicate pairs, closest first.</summary>
    public required IReadOnlyList<DuplicatePair> NearDuplicates { get; init; }

    /// <summary>Images left out of the duplicate checks as blank or mostly white.</summary>
    public required int LowInformationCount { get; init; }

    /// <summary>Images that could not be decoded (path and reason); they are still checked for exact duplicates.</summary>
    public required IReadOnlyList<(string Path, string Error)> Unreadable { get; init; }

    /// <summary>The hash distance threshold used for near-duplicates.</summary>
    public required int HammingThreshold { get; init; }

    /// <summary>The thumbnail correlation threshold used for near-duplicates.</summary>
    public required double MinCorrelation { get; init; }

    /// <summary>True when any leak was found.</summary>
    public bool IsLeaky => GroupLeaks.Count > 0 || SourceImageLeaks.Count > 0 || ExactDuplicateCount > 0 || NearDuplicateCount > 0;

    /// <summary>One line: <c>clean</c> or what leaks.</summary>
    public string Verdict
    {
        get
        {
            if (!IsLeaky)
            {
                return "clean: no group on both sides of a fold, no duplicate images across folds";
            }

            var parts = new List<string>();
            if (GroupLeaks.Count > 0)
            {
                parts.Add($"{GroupLeaks.Count} group{Plural(GroupLeaks.Count)} on both sides");
            }

            if (SourceImageLeaks.Count > 0)
            {
                parts.Add($"{SourceImageLeaks.Count} source image{Plural(SourceImageLeaks.Count)} on both sides");
            }

            if (ExactDuplicateCount > 0)
            {
                parts.Add($"{ExactDuplicateCount} exact duplicate pair{Plural(ExactDuplicateCount)} across folds");
            }

            if (NearDuplicateCount > 0)
            {
                parts.Add($"{NearDuplicateCount} near-duplicate pair{Plural(NearDuplicateCount)} across folds");
            }

            return "LEAK: " + string.Join(", ", parts);
        }
    }

    private static string Plural(int n) => n == 1 ? "" : "s";
}

/// <summary>
/// Checks a cross-validation split for leaks before any training: (1) the same group (patient, or source image) on
/// both sides of a fold; (2) near-duplicate images in different folds: 64-bit DCT perceptual hashes (pHash of a
/// 32 x 32 grey resize) within a Hamming distance, flips and right-angle rotations included, found through a
/// multi-index hash table (no all-pairs comparison), each match then confirmed by the correlation of 16 x 16 grey
/// thumbnails; (3) exact duplicate files (same SHA-256) in different folds. Blank, mostly white and sliver images
/// look alike whatever their origin: they are not evidence of a leak and are left out of (2) and (3).
/// </summary>
public static class LeakChecker
{
    /// <summary>Fingerprints every item (in parallel); reusable for several splits of the same dataset.</summary>
    public static IReadOnlyList<ImageFingerprint> Fingerprint(Dataset dataset, LeakCheckOptions? options = null,
        IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new LeakCheckOptions();
        const string stage = "hashing images";
        int total = dataset.Items.Count;
        var result = new ImageFingerprint[total];
        int done = 0;
        progress?.Report(new DatasetProgress(stage, 0, total));
        Parallel.For(0, total,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelism) },
            i =>
            {
                result[i] = ImageFingerprint.Compute(dataset.Items[i].Path, options);
                int n = Interlocked.Increment(ref done);
                if (progress != null && (n % 128 == 0 || n == total))
                {
                    progress.Report(new DatasetProgress(stage, n, total));
                }
            });
        return result;
    }

    /// <summary>Fingerprints the dataset and checks the split.</summary>
    public static LeakReport Check(Dataset dataset, CrossValidationSplit split, LeakCheckOptions? options = null,
        IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var fingerprints = Fingerprint(dataset, options, progress, cancellationToken);
        return Check(dataset, split, fingerprints, options, cancellationToken);
    }

    /// <summary>Checks the split with fingerprints made by <see cref="Fingerprint"/> for the same dataset.</summary>
    public static LeakReport Check(Dataset dataset, CrossValidationSplit split, IReadOnlyList<ImageFingerprint> fingerprints,
        LeakCheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(fingerprints);
        options ??= new LeakCheckOptions();
        if (options.HammingThreshold is < 0 or > LeakCheckOptions.MaxHammingThreshold)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Hamming threshold must be 0..{LeakCheckOptions.MaxHammingThreshold}, got {options.HammingThreshold}");
        }

        if (fingerprints.Count != dataset.Items.Count)
        {
            throw new ArgumentException($"expected {dataset.Items.Count} fingerprints, got {fingerprints.Count}", nameof(fingerprints));
        }

        int[] folds = split.FoldsOf(dataset);
        var items = dataset.Items;
        var lowInformation = fingerprints.Select(f => f.IsLowInformation(options)).ToArray();

        var groupLeaks = Straddling(items.Select(i => (i.Group, i.GroupKind)).ToArray(), folds);

        // A source image inside one group can only straddle folds if that group does (already reported); one whose
        // patches were given different groups (a manifest that splits an image) is a leak of its own.
        var groupsOfSource = items.GroupBy(i => i.SourceImageId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(i => i.Group).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal);
        var sourceLeaks = Straddling(items.Select(i => (i.SourceImageId, GroupKind.SourceImage)).ToArray(), folds)
            .Where(leak => groupsOfSource[leak.Group] > 1).ToList();

        var exact = ExactDuplicates(fingerprints, folds, lowInformation, options, out int exactCount, out var exactPairs);
        cancellationToken.ThrowIfCancellationRequested();
        var near = NearDuplicates(fingerprints, folds, lowInformation, exactPairs, options, cancellationToken, out int nearCount);

        return new LeakReport
        {
            ItemCount = items.Count,
            FoldCount = split.FoldCount,
            Seed = split.Seed,
            Grouped = split.Grouped,
            Folds = split.Summarize(dataset),
            GroupLeaks = groupLeaks,
            SourceImageLeaks = sourceLeaks,
            ExactDuplicateCount = exactCount,
            ExactDuplicates = exact,
            NearDuplicateCount = nearCount,
            NearDuplicates = near,
            LowInformationCount = lowInformation.Count(x => x),
            Unreadable = fingerprints.Where(f => f.Error != null).Select(f => (f.Path, f.Error!)).ToArray(),
            HammingThreshold = options.HammingThreshold,
            MinCorrelation = options.MinCorrelation,
        };
    }

    private static List<GroupLeak> Straddling((string Id, GroupKind Kind)[] ids, int[] folds)
    {
        var byId = new Dictionary<string, (GroupKind Kind, SortedDictionary<int, int> PerFold)>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Length; i++)
        {
            if (!byId.TryGetValue(ids[i].Id, out var entry))
            {
                byId[ids[i].Id] = entry = (ids[i].Kind, new SortedDictionary<int, int>());
            }

            entry.PerFold[folds[i]] = entry.PerFold.GetValueOrDefault(folds[i]) + 1;
        }

        return byId.Where(kv => kv.Value.PerFold.Count > 1)
            .OrderByDescending(kv => kv.Value.PerFold.Values.Sum()).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new GroupLeak(kv.Key, kv.Value.Kind, kv.Value.PerFold))
            .ToList();
    }

    private static List<DuplicatePair> ExactDuplicates(IReadOnlyList<ImageFingerprint> fingerprints, int[] folds, bool[] lowInformation,
        LeakCheckOptions options, out int count, out HashSet<(int, int)> pairs)
    {
        var byHash = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < fingerprints.Count; i++)
        {
            if (lowInformation[i] || fingerprints[i].Sha256.Count == 0)
            {
                continue;
            }

            string key = fingerprints[i].Sha256Hex;
            if (!byHash.TryGetValue(key, out var list))
            {
                byHash[key] = list = [];
            }

            list.Add(i);
        }

        pairs = [];
        var examples = new List<DuplicatePair>();
        count = 0;
        foreach (var list in byHash.Values.Where(l => l.Count > 1))
        {
            for (int a = 0; a < list.Count; a++)
            {
                for (int b = a + 1; b < list.Count; b++)
                {
                    int i = list[a], j = list[b];
                    if (folds[i] == folds[j])
                    {
                        continue;
                    }

                    count++;
                    pairs.Add((Math.Min(i, j), Math.Max(i, j)));
                    if (examples.Count < options.MaxExamples)
                    {
                        examples.Add(new DuplicatePair(fingerprints[i].Path, folds[i], fingerprints[j].Path, folds[j], 0, 1, ImageFingerprint.TransformNames[0]));
                    }
                }
            }
        }

        return examples;
    }

    private static List<DuplicatePair> NearDuplicates(IReadOnlyList<ImageFingerprint> fingerprints, int[] folds, bool[] lowInformation,
        HashSet<(int, int)> exactPairs, LeakCheckOptions options, CancellationToken cancellationToken, out int count)
    {
        int threshold = options.HammingThreshold;
        var indexed = Enumerable.Range(0, fingerprints.Count).Where(i => fingerprints[i].IsHashed && !lowInformation[i]).ToArray();

        // Multi-index hashing: cut the 64 bits into m = max(threshold / 2 + 1, 4) chunks. Two hashes within `threshold`
        // bits differ in at least one chunk by at most threshold / m <= 1 bit, so probing each chunk's table with the
        // query's chunk (and, when threshold >= m, its one-bit neighbours) finds every candidate; nothing else is compared.
        // Chunks interleave the bits (chunk c holds bits c, c + m, c + 2m...): the low DCT frequencies, whose bits
        // vary least between histology images, are spread over all chunks instead of filling one with a few huge buckets.
        int chunkCount = Math.Max(threshold / 2 + 1, 4);
        int radius = threshold / chunkCount;
        int transforms = options.MatchFlipsAndRotations ? 8 : 1;
        var hashOf = new ulong[fingerprints.Count];
        var variants = new ulong[fingerprints.Count * 8];
        foreach (int i in indexed)
        {
            hashOf[i] = fingerprints[i].Hash;
            for (int t = 0; t < 8; t++)
            {
                variants[i * 8 + t] = fingerprints[i].DihedralHashes[t];
            }
        }

        var tables = new ChunkTable[chunkCount];
        for (int c = 0; c < chunkCount; c++)
        {
            ulong mask = 0;
            for (int bit = c; bit < 64; bit += chunkCount)
            {
                mask |= 1UL << bit;
            }

            tables[c] = new ChunkTable(mask, indexed, hashOf);
        }

        // Candidates within the threshold, found in parallel; each pair is confirmed once afterwards.
        var matches = new System.Collections.Concurrent.ConcurrentBag<(int I, int J, int Distance, int Transform)>();
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, indexed.Length),
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelism) },
            range =>
            {
                var best = new Dictionary<int, (int Distance, int Transform)>();
                for (int k = range.Item1; k < range.Item2; k++)
                {
                    int i = indexed[k];
                    int foldOfQuery = folds[i];
                    best.Clear();
                    for (int t = 0; t < transforms; t++)
                    {
                        ulong query = variants[i * 8 + t];
                        foreach (var table in tables)
                        {
                            int key = table.KeyOf(query);
                            for (int flip = -1; flip < (radius > 0 ? table.Width : 0); flip++)
                            {
                                foreach (int j in table.Bucket(flip < 0 ? key : key ^ (1 << flip)))
                                {
                                    if (folds[j] == foldOfQuery)
                                    {
                                        continue;
                                    }

                                    int d = BitOperations.PopCount(query ^ hashOf[j]);
                                    if (d <= threshold && (!best.TryGetValue(j, out var seen) || d < seen.Distance))
                                    {
                                        best[j] = (d, t);
                                    }
                                }
                            }
                        }
                    }

                    foreach (var (j, (distance, transform)) in best)
                    {
                        matches.Add((i, j, distance, transform));
                    }
                }
            });

        var found = new Dictionary<(int, int), (int Distance, double Correlation, int Transform)>();
        var rejected = new HashSet<(int, int)>();
        foreach (var (i, j, distance, transform) in matches.OrderBy(m => m.Distance).ThenBy(m => m.I).ThenBy(m => m.J))
        {
            var key = (Math.Min(i, j), Math.Max(i, j));
            if (exactPairs.Contains(key) || rejected.Contains(key) || found.ContainsKey(key))
            {
                continue;
            }

            double correlation = fingerprints[i].Correlation(fingerprints[j], transform);
            if (correlation < options.MinCorrelation)
            {
                rejected.Add(key);
                continue;
            }

            // Stored as seen from the lower index: its transform maps that image onto the other.
            found[key] = (distance, correlation, i < j ? transform : Inverse(transform));
        }

        count = found.Count;
        return found.OrderBy(kv => kv.Value.Distance).ThenByDescending(kv => kv.Value.Correlation)
            .ThenBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2)
            .Take(options.MaxExamples)
            .Select(kv => new DuplicatePair(fingerprints[kv.Key.Item1].Path, folds[kv.Key.Item1], fingerprints[kv.Key.Item2].Path,
                folds[kv.Key.Item2], kv.Value.Distance, Math.Round(kv.Value.Correlation, 4), ImageFingerprint.TransformNames[kv.Value.Transform]))
            .ToList();
    }

    /// <summary>
    /// Throws <see cref="LeakFoundException"/> when <paramref name="report"/> found a leak: the guard training calls
    /// before it starts (a user's explicit "allow leaks" skips the call).
    /// </summary>
    public static void EnsureClean(LeakReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.IsLeaky)
        {
            throw new LeakFoundException(report,
                $"the cross-validation split leaks ({report.Verdict[6..]}): its scores would be optimistic; run histo leakcheck for details, or allow leaks explicitly");
        }
    }

    /// <summary>The transform that undoes transform <paramref name="t"/> (only the two quarter turns differ from themselves).</summary>
    private static int Inverse(int t) => t switch { 5 => 6, 6 => 5, _ => t };

    /// <summary>
    /// One table of the multi-index: items bucketed by the value of one chunk of their hash, stored as one array of
    /// item indexes with an offset per chunk value (chunks have at most 16 bits).
    /// </summary>
    private sealed class ChunkTable
    {
        private readonly ulong _mask;
        private readonly int[] _offsets;
        private readonly int[] _items;

        public ChunkTable(ulong mask, int[] indexed, ulong[] hashOf)
        {
            _mask = mask;
            Width = BitOperations.PopCount(mask);
            _offsets = new int[(1 << Width) + 1];
            foreach (int i in indexed)
            {
                _offsets[KeyOf(hashOf[i]) + 1]++;
            }

            for (int k = 1; k < _offsets.Length; k++)
            {
                _offsets[k] += _offsets[k - 1];
            }

            _items = new int[indexed.Length];
            var next = _offsets[..^1].ToArray();
            foreach (int i in indexed)
            {
                _items[next[KeyOf(hashOf[i])]++] = i;
            }
        }

        /// <summary>Bits in the chunk.</summary>
        public int Width { get; }

        /// <summary>The chunk of <paramref name="hash"/>, packed to the low bits.</summary>
        public int KeyOf(ulong hash)
        {
            if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
            {
                return (int)System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(hash, _mask);
            }

            ulong mask = _mask;
            int result = 0;
            int position = 0;
            while (mask != 0)
            {
                int bit = BitOperations.TrailingZeroCount(mask);
                result |= (int)((hash >> bit) & 1UL) << position++;
                mask &= mask - 1;
            }

            return result;
        }

        /// <summary>Items whose chunk equals <paramref name="key"/>.</summary>
        public ReadOnlySpan<int> Bucket(int key) => _items.AsSpan(_offsets[key], _offsets[key + 1] - _offsets[key]);
    }
}
