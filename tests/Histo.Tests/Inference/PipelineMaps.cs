using Histo.Inference;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Tests.Inference;

/// <summary>
/// Whole-slide results built from made-up patch probabilities (no network), for tests of what the pipeline writes and
/// of how the viewer shows it.
/// </summary>
internal static class PipelineMaps
{
    /// <summary>A two-class card as <c>histo train</c> writes it for the IDC patches.</summary>
    public static ModelCard IdcCard() => new()
    {
        Classes = ["0", "1"],
        BachCodes = [0, 3],
        PatchSizePixels = 50,
        InputSizePixels = 64,
        Mpp = 4.0,
    };

    /// <summary>
    /// A result over the whole slide, one 100-level-0-pixel patch per map cell (every cell is tissue unless
    /// <paramref name="cellInRegion"/> says otherwise), whose IDC probability changes sharply from cell to cell:
    /// ((7x + 13y) mod 10) / 9; with more classes, class (x + y) mod K.
    /// </summary>
    public static SlideInferenceResult Checkered(string slidePath, ModelCard? card = null, double cellLevel0Pixels = 100, Func<int, int, bool>? cellInRegion = null)
    {
        card ??= IdcCard();
        using var slide = Slide.Open(slidePath);
        int width = (int)Math.Round(slide.Width / cellLevel0Pixels), height = (int)Math.Round(slide.Height / cellLevel0Pixels);
        var geometry = new MapGeometry(0, 0, slide.Width, slide.Height, width, height, card.DisplayClassNames);
        var patches = new List<PatchPrediction>();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float p = ((7 * x + 13 * y) % 10) / 9f;
                var probabilities = card.Classes.Count == 2 ? new[] { 1 - p, p } : Enumerable.Range(0, card.Classes.Count).Select(k => k == (x + y) % card.Classes.Count ? 1f : 0f).ToArray();
                patches.Add(new PatchPrediction((long)Math.Round(x * geometry.Level0PerPixelX), (long)Math.Round(y * geometry.Level0PerPixelY),
                    (long)cellLevel0Pixels, 1.0, probabilities));
            }
        }

        var codes = card.HasBachCodes ? card.BachCodes! : Enumerable.Range(0, card.Classes.Count).ToList();
        var resolution = new ResolvedResolution(Resolution.Mpp(card.Mpp ?? 4), cellLevel0Pixels / card.PatchSizePixels, slide.MppX * cellLevel0Pixels / card.PatchSizePixels, null);
        var result = SlideInferenceResult.FromPatches(slidePath, card, geometry, patches, cellInRegion ?? ((_, _) => true), ClassMapRule.Argmax, codes, slide.MppX, slide.MppY, resolution, []);
        result.Thumbnail = slide.GetThumbnail(new SlideInferenceOptions().ThumbnailMaxPixels); // as the pipeline takes it
        result.SlideSizePixels = (slide.Width, slide.Height);
        return result;
    }
}
