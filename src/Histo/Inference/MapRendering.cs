using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Inference;

/// <summary>Colours for classes: BACH classes by code, other class sets from a qualitative palette.</summary>
public static class ClassPalette
{
    private static readonly (byte R, byte G, byte B)[] Bach =
    [
        (120, 200, 120), // Normal
        (70, 140, 255),  // Benign
        (255, 190, 40),  // InSitu
        (230, 40, 40),   // Invasive
    ];

    private static readonly (byte R, byte G, byte B)[] Qualitative =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    /// <summary>The colour of class <paramref name="classIndex"/>, by its BACH code when the classes have one.</summary>
    public static (byte R, byte G, byte B) ColorOf(int classIndex, IReadOnlyList<int>? bachCodes) =>
        bachCodes != null && classIndex < bachCodes.Count && bachCodes[classIndex] is >= 0 and <= 3
            ? Bach[bachCodes[classIndex]]
            : Qualitative[classIndex % Qualitative.Length];

    /// <summary>The colour of a BACH code 0..3.</summary>
    public static (byte R, byte G, byte B) ColorOfBachCode(int code) => Bach[Math.Clamp(code, 0, 3)];
}

/// <summary>Turns prediction maps into pictures: a heatmap with legend, a class map picture and an overlay on a thumbnail.</summary>
public static class MapRendering
{
    /// <summary>Colour of cells outside the tissue in rendered maps.</summary>
    public static readonly (byte R, byte G, byte B) Background = (255, 255, 255);

    /// <summary>
    /// Colours an intensity map (0..1, NaN = no tissue) with the Turbo colour map, one pixel per cell,
    /// transparent where NaN.
    /// </summary>
    public static RgbaImage ColorizeIntensity(ReadOnlySpan<float> intensity, int width, int height)
    {
        var lut = TurboLut.Value;
        var image = new RgbaImage(width, height);
        var p = image.Pixels;
        for (int i = 0; i < width * height; i++)
        {
            float v = intensity[i];
            if (float.IsNaN(v))
            {
                continue;
            }

            var c = lut[(int)Math.Round(Math.Clamp(v, 0f, 1f) * 255)];
            p[i * 4] = c.R;
            p[i * 4 + 1] = c.G;
            p[i * 4 + 2] = c.B;
            p[i * 4 + 3] = 255;
        }

        return image;
    }

    /// <summary>Colours a class map (value = class index, 255 = no tissue), transparent where no tissue.</summary>
    public static RgbaImage ColorizeClasses(ReadOnlySpan<byte> classMap, int width, int height, IReadOnlyList<int>? bachCodes)
    {
        var image = new RgbaImage(width, height);
        var p = image.Pixels;
        for (int i = 0; i < width * height; i++)
        {
            if (classMap[i] == 255)
            {
                continue;
            }

            var c = ClassPalette.ColorOf(classMap[i], bachCodes);
            p[i * 4] = c.R;
            p[i * 4 + 1] = c.G;
            p[i * 4 + 2] = c.B;
            p[i * 4 + 3] = 255;
        }

        return image;
    }

    /// <summary>
    /// A picture of a coloured map enlarged (nearest neighbour) to at least <paramref name="minSidePixels"/> on its
    /// longer side, over white, with a legend strip below: a colour bar with tick labels, or class swatches.
    /// </summary>
    public static RgbaImage WithLegend(RgbaImage map, IReadOnlyList<(string Label, (byte R, byte G, byte B) Color)>? swatches,
        IReadOnlyList<(double Position, string Label)>? colorBarTicks, string title, int minSidePixels = 512)
    {
        ArgumentNullException.ThrowIfNull(map);
        int scale = Math.Max(1, (int)Math.Ceiling((double)minSidePixels / Math.Max(map.Width, map.Height)));
        int mapW = map.Width * scale, mapH = map.Height * scale;
        int titleWidth = Cv2.GetTextSize(title, HersheyFonts.HersheySimplex, 0.5, 1, out _).Width;
        int width = Math.Max(Math.Max(mapW, 420), titleWidth + 16);
        const int legendH = 70;
        using var canvas = new Mat(mapH + legendH, width, MatType.CV_8UC3, Scalar.All(255));
        using (var mapMat = ImageIO.ToBgraMat(map.CompositeOverWhite()))
        using (var bgr = new Mat())
        using (var big = new Mat())
        {
            Cv2.CvtColor(mapMat, bgr, ColorConversionCodes.BGRA2BGR);
            Cv2.Resize(bgr, big, new Size(mapW, mapH), 0, 0, InterpolationFlags.Nearest);
            using var roi = new Mat(canvas, new Rect(0, 0, mapW, mapH));
            big.CopyTo(roi);
        }

        Cv2.PutText(canvas, title, new Point(8, mapH + 18), HersheyFonts.HersheySimplex, 0.5, Scalar.Black, 1, LineTypes.AntiAlias);
        if (colorBarTicks != null)
        {
            var lut = TurboLut.Value;
            int barX = 10, barW = width - 20, barY = mapH + 26;
            for (int x = 0; x < barW; x++)
            {
                var c = lut[x * 255 / Math.Max(1, barW - 1)];
                Cv2.Line(canvas, new Point(barX + x, barY), new Point(barX + x, barY + 14), new Scalar(c.B, c.G, c.R));
            }

            foreach (var (position, label) in colorBarTicks)
            {
                int x = barX + (int)Math.Round(position * (barW - 1));
                Cv2.Line(canvas, new Point(x, barY + 14), new Point(x, barY + 19), Scalar.Black);
                var size = Cv2.GetTextSize(label, HersheyFonts.HersheySimplex, 0.4, 1, out _);
                int tx = Math.Clamp(x - size.Width / 2, 0, width - size.Width);
                Cv2.PutText(canvas, label, new Point(tx, barY + 34), HersheyFonts.HersheySimplex, 0.4, Scalar.Black, 1, LineTypes.AntiAlias);
            }
        }
        else if (swatches != null)
        {
            int x = 10;
            foreach (var (label, color) in swatches)
            {
                Cv2.Rectangle(canvas, new Rect(x, mapH + 30, 14, 14), new Scalar(color.B, color.G, color.R), -1);
                Cv2.Rectangle(canvas, new Rect(x, mapH + 30, 14, 14), Scalar.Black, 1);
                Cv2.PutText(canvas, label, new Point(x + 18, mapH + 42), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
                x += 26 + Cv2.GetTextSize(label, HersheyFonts.HersheySimplex, 0.45, 1, out _).Width;
            }
        }

        return ImageIO.FromMat(canvas);
    }

    /// <summary>
    /// Blends a coloured map (transparent where no tissue) over a slide thumbnail. The map covers the level-0
    /// rectangle (level0X, level0Y, level0Width, level0Height); the thumbnail covers the whole slide.
    /// </summary>
    public static RgbaImage Overlay(RgbaImage thumbnail, RgbaImage map, long slideWidth, long slideHeight,
        double level0X, double level0Y, double level0Width, double level0Height, double opacity = 0.45)
    {
        ArgumentNullException.ThrowIfNull(thumbnail);
        ArgumentNullException.ThrowIfNull(map);
        double sx = (double)thumbnail.Width / slideWidth, sy = (double)thumbnail.Height / slideHeight;
        int x0 = (int)Math.Round(level0X * sx), y0 = (int)Math.Round(level0Y * sy);
        int w = Math.Max(1, (int)Math.Round(level0Width * sx)), h = Math.Max(1, (int)Math.Round(level0Height * sy));
        using var src = Mat.FromPixelData(map.Height, map.Width, MatType.CV_8UC4, map.Pixels);
        using var scaled = new Mat();
        Cv2.Resize(src, scaled, new Size(w, h), 0, 0, InterpolationFlags.Nearest);
        var mapScaled = new RgbaImage(w, h);
        System.Runtime.InteropServices.Marshal.Copy(scaled.Data, mapScaled.Pixels, 0, mapScaled.Pixels.Length);
        var result = new RgbaImage(thumbnail.Width, thumbnail.Height, (byte[])thumbnail.Pixels.Clone());
        var dst = result.Pixels;
        var m = mapScaled.Pixels;
        for (int y = Math.Max(0, y0); y < Math.Min(result.Height, y0 + h); y++)
        {
            for (int x = Math.Max(0, x0); x < Math.Min(result.Width, x0 + w); x++)
            {
                int mi = ((y - y0) * w + (x - x0)) * 4;
                if (m[mi + 3] == 0)
                {
                    continue;
                }

                int di = (y * result.Width + x) * 4;
                for (int c = 0; c < 3; c++)
                {
                    dst[di + c] = (byte)Math.Round(dst[di + c] * (1 - opacity) + m[mi + c] * opacity);
                }
            }
        }

        return result;
    }

    private static readonly Lazy<(byte R, byte G, byte B)[]> TurboLut = new(() =>
    {
        using var ramp = new Mat(1, 256, MatType.CV_8UC1);
        for (int i = 0; i < 256; i++)
        {
            ramp.Set(0, i, (byte)i);
        }

        using var colored = new Mat();
        Cv2.ApplyColorMap(ramp, colored, ColormapTypes.Turbo);
        var lut = new (byte, byte, byte)[256];
        for (int i = 0; i < 256; i++)
        {
            var v = colored.Get<Vec3b>(0, i);
            lut[i] = (v.Item2, v.Item1, v.Item0);
        }

        return lut;
    });
}
