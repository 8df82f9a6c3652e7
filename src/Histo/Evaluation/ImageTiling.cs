using Histo.Imaging;

namespace Histo.Evaluation;

/// <summary>
/// How an image of any size becomes model-sized patches for image-level prediction.
/// <list type="number">
/// <item>Scale: when both the image's and the model's µm/px are known, the image is resized by
/// <c>imageMpp / modelMpp</c> so that its pixels match the model's (a BACH field at 0.42 µm/px for a 4 µm/px model
/// shrinks about 9.5x); when either is unknown the image is used at its native scale.</item>
/// <item>Small images: an image (after scaling) narrower or shorter than the patch size is resized, as a whole,
/// to one patch (a border cut of 50x35 px becomes 50x50; aspect is not kept).</item>
/// <item>Larger images are covered by a grid of <c>ceil(W / P) x ceil(H / P)</c> patches spread evenly from edge to
/// edge, so the last row and column overlap their neighbours instead of running off the image; nothing is padded.</item>
/// </list>
/// The image-level prediction is then the mean of the patch probabilities (Kwok 2018's "average of the patch outputs").
/// </summary>
public static class ImageTiling
{
    /// <summary>Relative difference in µm/px below which the image is treated as already at the model's scale.</summary>
    public const double MppTolerance = 0.02;

    /// <summary>The scale factor applied to the image before tiling (1 when either µm/px is unknown or they agree).</summary>
    public static double ScaleFor(double? imageMpp, double? modelMpp)
    {
        if (imageMpp is not > 0 || modelMpp is not > 0)
        {
            return 1.0;
        }

        double scale = imageMpp.Value / modelMpp.Value;
        return Math.Abs(scale - 1) <= MppTolerance ? 1.0 : scale;
    }

    /// <summary>
    /// Top-left corners of the patches covering a <paramref name="lengthPixels"/> side with patches of
    /// <paramref name="patchSizePixels"/>: one at 0 when the side equals the patch, else <c>ceil(L / P)</c> evenly
    /// spread from 0 to <c>L - P</c>. The side must be at least one patch long.
    /// </summary>
    public static int[] Origins(int lengthPixels, int patchSizePixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patchSizePixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(lengthPixels, patchSizePixels);
        int count = (lengthPixels + patchSizePixels - 1) / patchSizePixels;
        if (count == 1)
        {
            return [0];
        }

        var origins = new int[count];
        for (int i = 0; i < count; i++)
        {
            origins[i] = (int)Math.Round(i * (lengthPixels - patchSizePixels) / (double)(count - 1), MidpointRounding.AwayFromZero);
        }

        return origins;
    }

    /// <summary>
    /// Top-left corners of a sliding window of <paramref name="patchSizePixels"/> moved by
    /// <paramref name="strideSizePixels"/> along a <paramref name="lengthPixels"/> side, with a last window aligned to
    /// the far edge when the stride does not land on it (the seed's crops of a BACH field: 748 px windows every 49.5 px
    /// over 1024 x 768 give 7 x 2 positions). A side shorter than the window gives one window at 0 (the caller resizes).
    /// </summary>
    public static int[] SlidingOrigins(int lengthPixels, int patchSizePixels, double strideSizePixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patchSizePixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lengthPixels);
        if (!(strideSizePixels >= 1) || double.IsInfinity(strideSizePixels))
        {
            throw new ArgumentOutOfRangeException(nameof(strideSizePixels), strideSizePixels, "The stride must be at least 1 pixel.");
        }

        int last = lengthPixels - patchSizePixels;
        if (last <= 0)
        {
            return [0];
        }

        var origins = new List<int>();
        for (int k = 0; ; k++)
        {
            int origin = (int)Math.Round(k * strideSizePixels, MidpointRounding.AwayFromZero);
            if (origin >= last)
            {
                break;
            }

            origins.Add(origin);
        }

        origins.Add(last);
        return [.. origins];
    }

    /// <summary>Cuts <paramref name="image"/> into square patches of <paramref name="patchSizePixels"/> (see the class remarks).</summary>
    /// <param name="image">The whole image.</param>
    /// <param name="patchSizePixels">The model's patch side, in pixels at <paramref name="modelMpp"/>.</param>
    /// <param name="imageMpp">The image's µm/px, or null when unknown.</param>
    /// <param name="modelMpp">The model's µm/px, or null when unknown.</param>
    /// <param name="strideSizePixels">
    /// When set, the patches are a sliding window with this stride (model pixels; see <see cref="SlidingOrigins"/>)
    /// instead of the edge-to-edge grid.
    /// </param>
    public static List<RgbaImage> Cut(RgbaImage image, int patchSizePixels, double? imageMpp = null, double? modelMpp = null,
        double? strideSizePixels = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patchSizePixels);
        double scale = ScaleFor(imageMpp, modelMpp);
        RgbaImage scaled = image;
        if (scale != 1.0)
        {
            int width = Math.Max(1, (int)Math.Round(image.Width * scale));
            int height = Math.Max(1, (int)Math.Round(image.Height * scale));
            scaled = ImageIO.Resize(image, width, height);
        }

        if (scaled.Width < patchSizePixels || scaled.Height < patchSizePixels)
        {
            return [ImageIO.Resize(scaled, patchSizePixels, patchSizePixels)];
        }

        if (scaled.Width == patchSizePixels && scaled.Height == patchSizePixels)
        {
            return [scaled];
        }

        int[] xs = strideSizePixels is { } sx ? SlidingOrigins(scaled.Width, patchSizePixels, sx) : Origins(scaled.Width, patchSizePixels);
        int[] ys = strideSizePixels is { } sy ? SlidingOrigins(scaled.Height, patchSizePixels, sy) : Origins(scaled.Height, patchSizePixels);
        var patches = new List<RgbaImage>(xs.Length * ys.Length);
        foreach (int y in ys)
        {
            foreach (int x in xs)
            {
                patches.Add(scaled.Crop(x, y, patchSizePixels, patchSizePixels));
            }
        }

        return patches;
    }
}
