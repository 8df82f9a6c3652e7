using System.Globalization;
using System.Text.Json;
using Histo.Bench.Baselines;
using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Bench.Infrastructure;

/// <summary>
/// Work the benchmark runs in a child process of its own (<c>Histo.Bench --child ...</c>) so that its peak memory can
/// be measured alone (<see cref="PeakRss"/>).
/// </summary>
public static class ChildMode
{
    /// <summary>The first argument that selects child mode.</summary>
    public const string Flag = "--child";

    /// <summary>The program that starts this benchmark again: the dotnet host or the app host.</summary>
    public static string Host => Environment.ProcessPath ?? "dotnet";

    /// <summary>Arguments before the benchmark's own: the assembly when the host is dotnet itself.</summary>
    public static string[] HostArgs =>
        Path.GetFileNameWithoutExtension(Host) == "dotnet" ? [typeof(ChildMode).Assembly.Location] : [];

    /// <summary>
    /// <c>--child read-all SLIDE histo|raw REGION_PIXELS THREADS [ROW_FRACTION]</c>: reads the whole of level 0 (or
    /// its top ROW_FRACTION) in REGION_PIXELS squares, the squares shared round-robin over THREADS threads, with
    /// Histo's <see cref="Slide.ReadRegion(long, long, int, int, int)"/> (a new image per read, as <c>histo region</c>
    /// does) or raw libopenslide into one reused buffer per thread. Prints one JSON line: reads, seconds and the
    /// process's own VmHWM at the end.
    /// </summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 5 && args[1] == "predict")
        {
            return Predict(args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture));
        }

        if (args.Length < 6 || args[1] != "read-all")
        {
            Console.Error.WriteLine("usage: Histo.Bench --child read-all SLIDE histo|raw REGION_PIXELS THREADS [ROW_FRACTION] | --child predict MODEL_DIR SLIDE BATCHES");
            return 2;
        }

        string path = args[2];
        bool histo = args[3] switch
        {
            "histo" => true,
            "raw" => false,
            _ => throw new ArgumentException($"reader must be histo or raw, got '{args[3]}'"),
        };
        int size = int.Parse(args[4], CultureInfo.InvariantCulture);
        int threads = int.Parse(args[5], CultureInfo.InvariantCulture);
        double rowFraction = args.Length > 6 ? double.Parse(args[6], CultureInfo.InvariantCulture) : 1.0;

        long width, height;
        using (var probe = new RawOpenSlide(path))
        {
            (width, height) = probe.Size;
        }

        long columns = (width + size - 1) / size;
        long rows = Math.Max(1, (long)Math.Ceiling((height + size - 1) / size * rowFraction));
        long total = columns * rows;
        long reads = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var slide = histo ? Slide.Open(path) : null;
        using var raw = histo ? null : new RawOpenSlide(path);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var buffer = histo ? null : new uint[(long)size * size];
            long sink = 0, mine = 0;
            for (long i = t; i < total; i += threads)
            {
                long x = i % columns * size, y = i / columns * size;
                if (slide != null)
                {
                    sink += slide.ReadRegion(x, y, 0, size, size).Pixels[0];
                }
                else
                {
                    raw!.ReadRegion(buffer!, x, y, 0, size, size);
                    sink += buffer![0];
                }

                mine++;
            }

            Interlocked.Add(ref reads, mine);
            GC.KeepAlive(sink);
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        if (raw?.Error is { } error)
        {
            Console.Error.WriteLine($"error: {error}");
            return 1;
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            reads,
            region_pixels = size,
            threads,
            seconds = sw.Elapsed.TotalSeconds,
            self_peak_rss_mb = PeakRss.SelfPeakRssMb(),
        }));
        return 0;
    }

    /// <summary>
    /// <c>--child predict MODEL_DIR SLIDE BATCHES</c>: the model alone, as <c>histo slide</c> loads it (2 torch threads):
    /// <see cref="PatchClassifier.Load"/>, one batch of 16 real patches of the card's size and µm/px read from the
    /// middle of SLIDE, then <see cref="PatchClassifier.Predict"/> on it BATCHES times. Prints one JSON line with the
    /// process's own VmHWM at the end.
    /// </summary>
    private static int Predict(string modelDir, string slidePath, int batches)
    {
        TorchSharp.torch.set_num_threads(2);
        using var model = PatchClassifier.Load(modelDir);
        int size = model.Card.PatchSizePixels;
        RgbaImage[] patches;
        using (var slide = Slide.Open(slidePath))
        {
            long side = (long)Math.Round(size * (model.Card.Mpp ?? slide.MppX ?? 1) / (slide.MppX ?? 1));
            long x0 = slide.Width / 2, y0 = slide.Height / 2;
            patches = Enumerable.Range(0, 16)
                .Select(i => PatchReader.Read(slide, new PatchPosition(0, 0, x0 + i % 4 * side, y0 + i / 4 * side, side, null), size))
                .ToArray();
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int b = 0; b < batches; b++)
        {
            model.Predict(patches);
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            patches = batches * patches.Length,
            seconds = sw.Elapsed.TotalSeconds,
            self_peak_rss_mb = PeakRss.SelfPeakRssMb(),
        }));
        return 0;
    }
}
