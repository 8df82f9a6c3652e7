using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Tissue mask, and mask plus patch grid, of a 50,000 x 50,000 pyramidal TIFF (<see cref="LargeSlide"/>), against the
/// Python stack (openslide-python + numpy: the seed's a* rule without morphology or pen rejection, and a numpy mean per
/// patch), in seconds. Grid: 256 px patches at 0.5 µm/px, at least 5 % tissue.
/// </summary>
public sealed class TissueBenchmark : IBenchmark
{
    public string Name => "tissue";

    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        string path = LargeSlide.Ensure(context);
        int repetitions = context.Quick ? 1 : 3;
        using var slide = Slide.Open(path);
        var detector = new TissueDetector();
        TissueResult? mask = null;
        double maskSeconds = BenchContext.MedianSeconds(() => mask = detector.Detect(slide), warmup: 1, repetitions);
        long kept = 0, positions = 0;
        double totalSeconds = BenchContext.MedianSeconds(() =>
        {
            var result = detector.Detect(slide);
            var grid = PatchGrid.ForSlide(slide, Resolution.Mpp(0.5), 256, null, result.Mask, 0.05);
            positions = grid.PositionCount;
            kept = grid.LongCount();
        }, warmup: 0, repetitions);

        var python = LargeSlide.Python(context, "tissue_baseline.py", path, "--repeat", repetitions.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string notes = $"50k x 50k JPEG TIFF; mask {mask!.Mask.Width}x{mask.Mask.Height} from level {mask.LevelIndex}, tissue {LargeSlide.F(mask.TissueFraction)} " +
            $"(python {LargeSlide.F(python.GetProperty("tissue_fraction").GetDouble())}); grid {positions} positions, {kept} kept (python {python.GetProperty("kept").GetInt64()})";
        yield return new BenchResult("tissue.mask_50k", maskSeconds, python.GetProperty("mask_seconds").GetDouble(), "s",
            "openslide-python + numpy a* rule", LowerIsBetter: true, Notes: notes);
        yield return new BenchResult("tissue.mask_and_grid_50k", totalSeconds, python.GetProperty("total_seconds").GetDouble(), "s",
            "openslide-python + numpy, numpy mean per patch", LowerIsBetter: true, Notes: "mask + 0.5 µm/px 256 px grid, >= 5 % tissue");
    }
}
