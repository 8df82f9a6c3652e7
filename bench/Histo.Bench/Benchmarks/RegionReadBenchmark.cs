using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Imaging;
using Histo.Slides;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// 256 x 256 level-0 region reads: Histo's <see cref="Slide.ReadRegion(long, long, int, int, int)"/> (a new
/// straight-RGBA image per read) against raw libopenslide calls into one reused buffer per thread
/// (<see cref="RawOpenSlide"/>: premultiplied ARGB, no conversion, no allocation) and against python3-openslide's
/// <c>read_region</c> (bench/python/openslide_read.py, a PIL RGBA image per read), on the same positions, 1 and 2
/// threads, on the fixture slides and the large generated one. Aligned positions are a sample of the slide's tile
/// grid; unaligned ones are as many random offsets. Every repetition opens fresh handles (untimed), so each starts
/// with OpenSlide's tile cache empty. All readers, Python included (a <see cref="PythonReadServer"/> process), are
/// interleaved chunk by chunk (see <see cref="Measure"/>), so a busy machine slows them alike. Headline rows <c>read_aligned</c> /
/// <c>read_unaligned</c>: the large slide, 2 threads, Histo vs raw; <c>*_into</c> rows: Histo reading into a reused
/// <see cref="RgbaImage"/> (<see cref="Slide.ReadRegion(long, long, int, RgbaImage)"/>).
/// </summary>
public sealed class RegionReadBenchmark : IBenchmark
{
    private const int RegionSize = 256;
    private const int Seed = 20180319;

    /// <inheritdoc />
    public string Name => "read_aligned read_unaligned";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int positionCount = context.Quick ? 120 : 400;
        int reps = context.Quick ? 3 : 7;
        var slides = new List<(string Key, string Path)>
        {
            ("large", LargeSlide.Ensure(context)),
            ("cmu", Path.Combine(context.SharedData, "slides", "cmu-1-small-region.svs")),
            ("tcga", Path.Combine(context.SharedData, "slides", "tcga-cr-7395-01a-01-ts1.svs")),
            ("a01", Path.Combine(context.SharedData, "bach-a01", "A01-window.tif")),
        };
        // HISTO_BENCH_SLIDES=large,cmu limits the run to some slides (for quicker experiments).
        var only = Environment.GetEnvironmentVariable("HISTO_BENCH_SLIDES")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var (key, path) in slides.Where(s => only is not { Length: > 0 } || only.Contains(s.Key)))
        {
            foreach (bool aligned in new[] { true, false })
            {
                var positions = MakePositions(path, aligned, positionCount);
                string positionsFile = Path.Combine(context.CacheDir, $"positions-{key}-{(aligned ? "aligned" : "unaligned")}.txt");
                File.WriteAllLines(positionsFile, positions.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X} {p.Y}")));
                foreach (int threads in new[] { 2, 1 })
                {
                    bool large = key == "large";
                    Reader[] readers = large ? [Reader.Histo, Reader.HistoInto, Reader.Raw, Reader.Python] : [Reader.Histo, Reader.Raw, Reader.Python];
                    using var python = new PythonReadServer(context, path, positionsFile, RegionSize, threads);
                    var rates = Measure(path, positions, threads, reps, readers, python);
                    double histo = rates[Reader.Histo], raw = rates[Reader.Raw];
                    string mode = aligned ? "read_aligned" : "read_unaligned";
                    string name = key == "large" && threads == 2 ? mode : $"{mode}_{key}_{threads}t";
                    string where = $"{key} {Path.GetFileName(path)}, {threads} thread{(threads > 1 ? "s" : "")}, {positions.Count} reads x {reps}";
                    yield return new BenchResult(name, histo, raw, "reads/s", "raw libopenslide", Notes: where);
                    yield return new BenchResult(name + "_vs_python", histo, rates[Reader.Python], "reads/s", "python3-openslide", Notes: where);
                    if (large)
                    {
                        string intoName = threads == 2 ? mode + "_into" : $"{mode}_into_large_{threads}t";
                        yield return new BenchResult(intoName, rates[Reader.HistoInto], raw, "reads/s", "raw libopenslide",
                            Notes: where + ", Histo reading into a reused RgbaImage");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Tile-grid positions (a shuffled sample of the grid points whose region lies inside the slide) or the same
    /// number of random positions, deterministic for a slide.
    /// </summary>
    internal static List<(long X, long Y)> MakePositions(string path, bool aligned, int count)
    {
        using var slide = Slide.Open(path);
        int tileW = int.Parse(slide.Properties["openslide.level[0].tile-width"], CultureInfo.InvariantCulture);
        int tileH = int.Parse(slide.Properties["openslide.level[0].tile-height"], CultureInfo.InvariantCulture);
        long maxX = slide.Width - RegionSize, maxY = slide.Height - RegionSize;
        var random = new Random(Seed);
        var grid = new List<(long X, long Y)>();
        for (long y = 0; y <= maxY; y += tileH)
        {
            for (long x = 0; x <= maxX; x += tileW)
            {
                grid.Add((x, y));
            }
        }

        var shuffled = grid.ToArray();
        random.Shuffle(shuffled);
        var chosen = shuffled.Take(count).ToList();
        if (aligned)
        {
            return chosen;
        }

        return Enumerable.Range(0, chosen.Count).Select(_ => (random.NextInt64(0, maxX + 1), random.NextInt64(0, maxY + 1))).ToList();
    }

    /// <summary>The readers compared, interleaved chunk by chunk.</summary>
    private enum Reader
    {
        /// <summary><see cref="Slide.ReadRegion(long, long, int, int, int)"/>: a new straight-RGBA image per read.</summary>
        Histo,

        /// <summary><see cref="Slide.ReadRegion(long, long, int, RgbaImage)"/>: one reused image per thread.</summary>
        HistoInto,

        /// <summary><see cref="RawOpenSlide.ReadRegion"/>: one reused premultiplied-ARGB buffer per thread.</summary>
        Raw,

        /// <summary>python3-openslide <c>read_region</c> in a <see cref="PythonReadServer"/> (its own threads).</summary>
        Python,
    }

    private const int ChunkReads = 16;

    /// <summary>
    /// Median reads/s of each reader. Each repetition opens a fresh handle per reader (untimed), then walks the
    /// positions in chunks of <see cref="ChunkReads"/>, reading every chunk with each reader in turn (the order
    /// rotating chunk by chunk), all threads together, a barrier closing each phase. Wall time is charged phase by
    /// phase to the reader that ran it, so the readers are timed within milliseconds of each other and the noise of
    /// a shared machine hits them alike.
    /// </summary>
    private static Dictionary<Reader, double> Measure(string path, List<(long X, long Y)> positions, int threads, int reps, Reader[] readers, PythonReadServer python)
    {
        var rates = readers.ToDictionary(r => r, _ => new double[reps]);
        for (int rep = -1; rep < reps; rep++)
        {
            var seconds = ReadInterleaved(path, positions, threads, readers, python);
            if (rep >= 0)
            {
                for (int k = 0; k < readers.Length; k++)
                {
                    rates[readers[k]][rep] = positions.Count / seconds[k];
                }
            }
        }

        return rates.ToDictionary(kv => kv.Key, kv => Median(kv.Value));
    }

    private static double[] ReadInterleaved(string path, List<(long X, long Y)> positions, int threads, Reader[] readers, PythonReadServer python)
    {
        int n = readers.Length;
        using var histoSlide = Slide.Open(path);
        using var histoIntoSlide = Slide.Open(path);
        using var rawSlide = new RawOpenSlide(path);
        python.Open();
        int chunks = (positions.Count + ChunkReads - 1) / ChunkReads;
        var seconds = new double[n];
        int phase = 0;
        var sw = new System.Diagnostics.Stopwatch();
        double last = 0;

        // Phase p runs reader (p / n + p % n) % n: each chunk starts with a different reader.
        using var barrier = new Barrier(threads, _ =>
        {
            double now = sw.Elapsed.TotalSeconds;
            seconds[(phase / n + phase % n) % n] += now - last;
            last = now;
            phase++;
        });
        var workers = new Thread[threads];
        var errors = new Exception?[threads];
        int sink = 0;
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                var buffer = new uint[RegionSize * RegionSize];
                var destination = new RgbaImage(RegionSize, RegionSize);
                int local = 0;
                for (int c = 0; c < chunks; c++)
                {
                    int from = c * ChunkReads, to = Math.Min(positions.Count, from + ChunkReads);
                    for (int k = 0; k < n; k++)
                    {
                        var reader = readers[(c + k) % n];
                        try
                        {
                            if (reader == Reader.Python)
                            {
                                // Python reads the chunk with its own threads; thread 0 waits for it, the rest idle.
                                if (index == 0)
                                {
                                    python.Read(from, to);
                                }
                            }
                            else
                            {
                                ReadChunk(reader, from + index, to);
                            }
                        }
                        catch (Exception e)
                        {
                            errors[index] ??= e;
                        }

                        barrier.SignalAndWait();
                    }
                }

                Interlocked.Add(ref sink, local);

                void ReadChunk(Reader reader, int first, int end)
                {
                    for (int i = first; i < end; i += threads)
                    {
                        var (x, y) = positions[i];
                        switch (reader)
                        {
                            case Reader.Histo:
                                local += histoSlide.ReadRegion(x, y, 0, RegionSize, RegionSize).Pixels[0];
                                break;
                            case Reader.HistoInto:
                                histoIntoSlide.ReadRegion(x, y, 0, destination);
                                local += destination.Pixels[0];
                                break;
                            default:
                                rawSlide.ReadRegion(buffer, x, y, 0, RegionSize, RegionSize);
                                local += (int)buffer[0];
                                break;
                        }
                    }
                }
            });
        }

        sw.Start();
        foreach (var w in workers)
        {
            w.Start();
        }

        foreach (var w in workers)
        {
            w.Join();
        }

        if (errors.FirstOrDefault(e => e != null) is { } first)
        {
            throw new InvalidOperationException($"a reader thread failed: {first.Message}", first);
        }

        if (rawSlide.Error is { } error)
        {
            throw new InvalidOperationException($"raw OpenSlide read failed: {error}");
        }

        GC.KeepAlive(sink);
        return seconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }
}
