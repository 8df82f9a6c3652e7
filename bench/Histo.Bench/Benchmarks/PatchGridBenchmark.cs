using Histo.Maps;
using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Patch-grid positions per second on the 50k slide's tissue mask (256 px at 0.5 µm/px, stride 64, at least 5 %
/// tissue: about 530,000 positions): Histo's streamed grid with a summed-area table against the straightforward way,
/// a materialised list of every position and a histogram of the mask under each patch (RasterMask.NonZeroFraction).
/// </summary>
public sealed class PatchGridBenchmark : IBenchmark
{
    public string Name => "patches.grid";

    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        string path = LargeSlide.Ensure(context);
        using var slide = Slide.Open(path);
        var mask = new TissueDetector().Detect(slide).Mask;
        int repetitions = context.Quick ? 1 : 5;
        PatchGrid grid = PatchGrid.ForSlide(slide, Resolution.Mpp(0.5), 256, 64, mask, 0.05);
        long histoKept = 0, naiveKept = 0;
        double histo = BenchContext.MedianSeconds(() =>
        {
            grid = PatchGrid.ForSlide(slide, Resolution.Mpp(0.5), 256, 64, mask, 0.05); // includes building the table
            histoKept = grid.LongCount();
        }, warmup: 1, repetitions);
        double naive = BenchContext.MedianSeconds(() => naiveKept = Naive(slide, mask, grid), warmup: 1, repetitions);
        if (histoKept != naiveKept)
        {
            throw new InvalidOperationException($"grid mismatch: {histoKept} vs {naiveKept} kept");
        }

        long positions = grid.PositionCount;
        yield return new BenchResult("patches.grid_positions_per_s", positions / histo, positions / naive, "positions/s",
            "list of all positions + RasterMask histogram per patch", Notes: $"{positions} positions, {histoKept} kept");
    }

    private static long Naive(Slide slide, RasterMask mask, PatchGrid geometry)
    {
        var all = new List<(long X, long Y)>();
        for (int row = 0; row < geometry.Rows; row++)
        {
            for (int column = 0; column < geometry.Columns; column++)
            {
                all.Add((PatchGrid.AxisPosition(column, slide.Width, geometry.Level0Size, geometry.Level0Stride),
                    PatchGrid.AxisPosition(row, slide.Height, geometry.Level0Size, geometry.Level0Stride)));
            }
        }

        return all.LongCount(p => mask.NonZeroFraction(p.X, p.Y, geometry.Level0Size, geometry.Level0Size) >= 0.05);
    }
}
