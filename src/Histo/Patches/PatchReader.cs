using Histo.Imaging;
using Histo.Slides;

namespace Histo.Patches;

/// <summary>Reads patch pixels at the target resolution: from the best pyramid level, then resized.</summary>
public static class PatchReader
{
    /// <summary>
    /// Reads the level-0 square of <paramref name="position"/> as a <paramref name="sizePixels"/> x
    /// <paramref name="sizePixels"/> image, composited over white (parts outside the slide become white glass).
    /// The pixels come from the level with the largest downsample not above the patch's, then are shrunk with area
    /// averaging (or enlarged bilinearly when the target is finer than level 0).
    /// </summary>
    public static RgbaImage Read(Slide slide, PatchPosition position, int sizePixels)
    {
        ArgumentNullException.ThrowIfNull(slide);
        if (sizePixels < 1)
        {
            throw new InvalidParameterException($"patch size must be positive, got {sizePixels}");
        }

        double downsample = (double)position.Level0Size / sizePixels;
        int level = slide.GetBestLevelForDownsample(downsample);
        double levelDownsample = slide.Levels[level].Downsample;
        int side = (int)Math.Max(1, Math.Round(position.Level0Size / levelDownsample));
        var region = slide.ReadRegion(position.Level0X, position.Level0Y, level, side, side).CompositeOverWhite();
        return side == sizePixels ? region : ImageIO.Resize(region, sizePixels, sizePixels);
    }
}
