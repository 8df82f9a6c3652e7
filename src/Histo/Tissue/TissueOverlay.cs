using Histo.Imaging;
using Histo.Maps;
using OpenCvSharp;

namespace Histo.Tissue;

/// <summary>Draws a tissue mask over the image it was computed from: a green tint inside and a dark green outline.</summary>
public static class TissueOverlay
{
    /// <summary>
    /// Renders the overlay, enlarged (nearest neighbour for the mask, bilinear for the image) so its longer side is at
    /// least <paramref name="minLongSidePixels"/> pixels when the mask is smaller.
    /// </summary>
    public static RgbaImage Render(TissueResult result, int minLongSidePixels = 1024)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Render(result.Image, result.Mask, minLongSidePixels);
    }

    /// <summary>Renders a mask over an image of the same size (see <see cref="Render(TissueResult, int)"/>).</summary>
    public static RgbaImage Render(RgbaImage image, RasterMask mask, int minLongSidePixels = 1024)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(mask);
        if (image.Width != mask.Width || image.Height != mask.Height)
        {
            throw new InvalidParameterException($"overlay: image {image.Width}x{image.Height} and mask {mask.Width}x{mask.Height} differ in size");
        }

        int scale = Math.Max(1, (int)Math.Ceiling((double)minLongSidePixels / Math.Max(image.Width, image.Height)));
        scale = Math.Min(scale, 16);
        int width = image.Width * scale, height = image.Height * scale;
        var canvas = ImageIO.Resize(image.CompositeOverWhite(), width, height);
        using var small = MatRows.WrapGray(mask.Pixels, mask.Width, mask.Height);
        using var big = new Mat();
        Cv2.Resize(small, big, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        for (int y = 0; y < height; y++)
        {
            var m = MatRows.Row(big, y);
            var row = canvas.Row(y);
            for (int x = 0, i = 0; x < width; x++, i += 4)
            {
                if (m[x] != 0)
                {
                    // 35 % green tint: keeps the tissue visible under the colour.
                    row[i] = (byte)((row[i] * 65 + 0 * 35) / 100);
                    row[i + 1] = (byte)((row[i + 1] * 65 + 200 * 35) / 100);
                    row[i + 2] = (byte)((row[i + 2] * 65 + 0 * 35) / 100);
                }
            }
        }

        Cv2.FindContours(big, out Point[][] contours, out _, RetrievalModes.List, ContourApproximationModes.ApproxSimple);
        using var rgba = MatRows.WrapRgba(canvas);
        Cv2.DrawContours(rgba, contours, -1, new Scalar(0, 110, 0, 255), Math.Max(1, Math.Max(width, height) / 512));
        return canvas;
    }
}
