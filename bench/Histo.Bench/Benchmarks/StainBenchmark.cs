using System.Diagnostics;
using Histo.Color;
using Histo.Imaging;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Stain normalisation and augmentation of 256 x 256 patches (cut from the CMU-1 small region), patches per second on
/// one thread: Macenko and Reinhard fitted on TIAToolbox's target against numpy implementations (torchstain's Macenko
/// algorithm; CIELAB matching with scikit-image's conversion), and the seeded augmenter (dihedral + HSV + stain jitter)
/// against torchvision (dihedral + ColorJitter, which does less: no stain jitter).
/// </summary>
public sealed class StainBenchmark : IBenchmark
{
    public string Name => "stain";

    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        string target = Path.Combine(context.SharedData, "tissue-tiles", "tiatoolbox", "target_image.png");
        string source = Path.Combine(context.CacheDir, "cmu-1792x2560.png");
        if (!File.Exists(source))
        {
            using var slide = Slide.Open(Path.Combine(context.SharedData, "slides", "cmu-1-small-region.svs"));
            ImageIO.Save(source, slide.ReadRegion(200, 200, 0, 1792, 2560).CompositeOverWhite());
        }

        var image = ImageIO.Load(source);
        var patches = new List<RgbaImage>();
        for (int y = 0; y + 256 <= image.Height; y += 256)
        {
            for (int x = 0; x + 256 <= image.Width; x += 256)
            {
                patches.Add(image.Crop(x, y, 256, 256));
            }
        }

        double seconds = context.Quick ? 1 : 4;
        var targetImage = ImageIO.Load(target);
        var macenko = MacenkoNormalizer.Fit(targetImage);
        var reinhard = ReinhardNormalizer.Fit(targetImage);
        var augmenter = new Augmenter();
        string S(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

        yield return new BenchResult("stain.macenko_256_per_s", Rate(patches, p => macenko.Normalize(p), seconds),
            Python(context, target, source, "macenko", S(seconds)), "patches/s", "numpy (torchstain algorithm)");
        yield return new BenchResult("stain.reinhard_256_per_s", Rate(patches, p => reinhard.Normalize(p), seconds),
            Python(context, target, source, "reinhard", S(seconds)), "patches/s", "numpy CIELAB matching");
        ulong seed = 0;
        yield return new BenchResult("augment.256_per_s", Rate(patches, p => augmenter.Augment(p, seed++), seconds),
            Python(context, target, source, "augment", S(seconds)), "patches/s", "torchvision rot/flip + ColorJitter",
            Notes: "Histo also applies stain jitter");
    }

    private static double Python(BenchContext context, string target, string source, string mode, string seconds) =>
        LargeSlide.Python(context, "stain_baseline.py", target, source, mode, seconds).GetProperty("patches_per_second").GetDouble();

    private static double Rate(List<RgbaImage> patches, Action<RgbaImage> work, double seconds)
    {
        for (int i = 0; i < 5; i++)
        {
            work(patches[i % patches.Count]);
        }

        int n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            work(patches[n++ % patches.Count]);
        }

        return n / clock.Elapsed.TotalSeconds;
    }
}
