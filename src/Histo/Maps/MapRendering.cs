using System.Globalization;
using Histo.Bach;
using Histo.Imaging;
using OpenCvSharp;
using SkiaSharp;

namespace Histo.Maps;

/// <summary>
/// Turns prediction maps into pictures: coloured maps, enlarged maps, an overlay on a thumbnail, and a legend strip
/// (colour bar with class names, swatches, scale bar) under any of them.
/// </summary>
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
        var colors = new (byte R, byte G, byte B)?[255];
        for (int k = 0; k < colors.Length; k++)
        {
            colors[k] = ClassPalette.ColorOfClass(k, bachCodes);
        }

        return ColorizeClasses(classMap, width, height, colors);
    }

    /// <summary>
    /// Colours a class map (or a label mask) one pixel per cell: value k opaque in <paramref name="colors"/>[k];
    /// values beyond the list or whose colour is null (no class, no tissue, a class switched off) transparent.
    /// </summary>
    public static RgbaImage ColorizeClasses(ReadOnlySpan<byte> classMap, int width, int height, IReadOnlyList<(byte R, byte G, byte B)?> colors)
    {
        ArgumentNullException.ThrowIfNull(colors);
        var lut = new byte[256 * 4];
        for (int k = 0; k < Math.Min(256, colors.Count); k++)
        {
            if (colors[k] is { } c)
            {
                (lut[k * 4], lut[k * 4 + 1], lut[k * 4 + 2], lut[k * 4 + 3]) = (c.R, c.G, c.B, 255);
            }
        }

        var image = new RgbaImage(width, height);
        var p = image.Pixels.AsSpan();
        for (int i = 0; i < width * height; i++)
        {
            lut.AsSpan(classMap[i] * 4, 4).CopyTo(p.Slice(i * 4, 4));
        }

        return image;
    }

    /// <summary>A map image resized to <paramref name="width"/> x <paramref name="height"/>, nearest neighbour (cells stay sharp rectangles).</summary>
    public static RgbaImage ResizeNearest(RgbaImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var src = MatRows.WrapRgba(image);
        using var dst = new Mat();
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        return MatRows.ToImage(dst);
    }

    /// <summary>
    /// The whole factor by which a map of <paramref name="width"/> x <paramref name="height"/> cells is enlarged so its
    /// longer side has at least <paramref name="minSidePixels"/> pixels (1 when it already has).
    /// </summary>
    public static int EnlargementFactor(int width, int height, int minSidePixels = 512) =>
        Math.Max(1, (int)Math.Ceiling((double)minSidePixels / Math.Max(1, Math.Max(width, height))));

    /// <summary>A coloured map composited over white and enlarged <paramref name="factor"/> times, nearest neighbour (each cell a sharp square).</summary>
    public static RgbaImage Enlarge(RgbaImage map, int factor)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        var flat = map.CompositeOverWhite();
        if (factor == 1)
        {
            return flat;
        }

        return ResizeNearest(flat, flat.Width * factor, flat.Height * factor);
    }

    /// <summary>
    /// The picture with a legend strip below it (<see cref="LegendLayout"/> says where each part lies): the title, the
    /// Turbo colour bar with class names above and ticks below, class swatches, and a scale bar whose length in
    /// pixels is its stated length in µm over <see cref="MapLegend.MicronsPerPixel"/>. Text is drawn with SkiaSharp
    /// (the renderer ScottPlot draws the training reports with) in an anti-aliased sans-serif face.
    /// </summary>
    public static RgbaImage WithLegend(RgbaImage picture, MapLegend legend)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(legend);
        using var fonts = new LegendFonts();
        var layout = Layout(picture.Width, picture.Height, legend, fonts);
        var info = new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
        }

        var flat = ImageIO.IsOpaque(picture) ? picture : picture.CompositeOverWhite();
        IntPtr pixels = bitmap.GetPixels();
        for (int y = 0; y < flat.Height; y++)
        {
            System.Runtime.InteropServices.Marshal.Copy(flat.Pixels, y * flat.Stride, pixels + y * bitmap.RowBytes, flat.Stride);
        }

        bitmap.NotifyPixelsChanged();
        using (var canvas = new SKCanvas(bitmap))
        {
            Draw(canvas, legend, layout, fonts);
        }

        var result = new RgbaImage(layout.Width, layout.Height);
        for (int y = 0; y < layout.Height; y++)
        {
            System.Runtime.InteropServices.Marshal.Copy(pixels + y * bitmap.RowBytes, result.Pixels, y * result.Stride, result.Stride);
        }

        return result;
    }

    /// <summary>Where <see cref="WithLegend"/> puts the parts of <paramref name="legend"/> under a picture of the given size.</summary>
    public static LegendLayout Layout(int pictureWidth, int pictureHeight, MapLegend legend)
    {
        ArgumentNullException.ThrowIfNull(legend);
        using var fonts = new LegendFonts();
        return Layout(pictureWidth, pictureHeight, legend, fonts);
    }

    /// <summary>
    /// The length of a scale bar for a picture of <paramref name="pictureWidth"/> pixels at
    /// <paramref name="micronsPerPixel"/>: the largest 1, 2 or 5 x 10^n µm that is at most a quarter of the picture.
    /// </summary>
    public static double ScaleBarMicrons(double micronsPerPixel, int pictureWidth)
    {
        double wanted = micronsPerPixel * Math.Max(pictureWidth, 40) / 4;
        double power = Math.Pow(10, Math.Floor(Math.Log10(wanted)));
        foreach (double m in new[] { 5.0, 2.0, 1.0 })
        {
            if (m * power <= wanted * (1 + 1e-9))
            {
                return m * power;
            }
        }

        return power;
    }

    /// <summary>A length in µm as a scale bar states it: "500 µm", "2 mm".</summary>
    public static string FormatMicrons(double microns) => microns >= 1000
        ? (microns / 1000).ToString("0.###", CultureInfo.InvariantCulture) + " mm"
        : microns.ToString("0.###", CultureInfo.InvariantCulture) + " µm";

    private const int Pad = 10, BarHeight = 14, SwatchSide = 14, ScaleBarThickness = 6, MinLegendWidth = 480;

    private static LegendLayout Layout(int pictureWidth, int pictureHeight, MapLegend legend, LegendFonts fonts)
    {
        int width = Math.Max(Math.Max(pictureWidth, MinLegendWidth), (int)Math.Ceiling(fonts.Title.MeasureText(legend.Title)) + 2 * Pad);
        int y = pictureHeight + 6 + 20; // the title line
        (int, int, int, int)? bar = null;
        if (legend.ColorBarLabels != null || legend.ColorBarTicks != null)
        {
            y += legend.ColorBarLabels is { Count: > 0 } ? 18 : 2;
            bar = (Pad, y, width - 2 * Pad, BarHeight);
            y += BarHeight + (legend.ColorBarTicks is { Count: > 0 } ? 22 : 6);
        }

        var swatches = new List<(int, int, int, int)>();
        if (legend.Swatches is { Count: > 0 })
        {
            int x = Pad;
            y += 4;
            foreach (var (label, _) in legend.Swatches)
            {
                int w = SwatchSide + 5 + (int)Math.Ceiling(fonts.Label.MeasureText(label)) + 14;
                if (x > Pad && x + w > width - Pad)
                {
                    x = Pad;
                    y += 20;
                }

                swatches.Add((x, y, SwatchSide, SwatchSide));
                x += w;
            }

            y += 22;
        }

        (int, int, int, int)? scaleBar = null;
        double? scaleMicrons = null;
        if (legend.MicronsPerPixel is { } mpp && mpp > 0 && double.IsFinite(mpp))
        {
            scaleMicrons = ScaleBarMicrons(mpp, pictureWidth);
            int length = Math.Max(1, (int)Math.Round(scaleMicrons.Value / mpp));
            scaleBar = (Pad, y + 6, length, ScaleBarThickness);
        }

        y += 22;
        return new LegendLayout(width, y + 2, pictureHeight, bar, swatches, scaleBar, scaleMicrons);
    }

    private static void Draw(SKCanvas canvas, MapLegend legend, LegendLayout layout, LegendFonts fonts)
    {
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true, Style = SKPaintStyle.Fill };
        using var solid = new SKPaint { Color = SKColors.Black, IsAntialias = false, Style = SKPaintStyle.Fill };
        using var grey = new SKPaint { Color = new SKColor(90, 90, 90), IsAntialias = false, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawText(legend.Title, Pad, layout.PictureHeight + 6 + 13, fonts.Title, ink);

        if (layout.ColorBar is { } bar)
        {
            var lut = TurboLut.Value;
            using var band = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
            for (int i = 0; i < bar.Width; i++)
            {
                var c = lut[ColorBarIndex(i, bar.Width)];
                band.Color = new SKColor(c.R, c.G, c.B);
                canvas.DrawRect(new SKRect(bar.X + i, bar.Y, bar.X + i + 1, bar.Y + bar.Height), band);
            }

            canvas.DrawRect(new SKRect(bar.X - 0.5f, bar.Y - 0.5f, bar.X + bar.Width + 0.5f, bar.Y + bar.Height + 0.5f), grey); // a frame just outside the bar
            float right = float.NegativeInfinity;
            foreach (var (position, label) in legend.ColorBarLabels ?? [])
            {
                int x = ColorBarX(bar, position);
                canvas.DrawRect(new SKRect(x, bar.Y - 4, x + 1, bar.Y), solid);
                float w = fonts.Label.MeasureText(label);
                float tx = Math.Clamp(x - w / 2, 0, layout.Width - w);
                tx = Math.Max(tx, right + 8); // never over the previous name
                canvas.DrawText(label, tx, bar.Y - 6, fonts.Label, ink);
                right = tx + w;
            }

            foreach (var (position, label) in legend.ColorBarTicks ?? [])
            {
                int x = ColorBarX(bar, position);
                canvas.DrawRect(new SKRect(x, bar.Y + bar.Height, x + 1, bar.Y + bar.Height + 5), solid);
                float w = fonts.Small.MeasureText(label);
                canvas.DrawText(label, Math.Clamp(x - w / 2, 0, layout.Width - w), bar.Y + bar.Height + 17, fonts.Small, ink);
            }
        }

        for (int i = 0; i < layout.Swatches.Count; i++)
        {
            var (x, y, w, h) = layout.Swatches[i];
            var (label, color) = legend.Swatches![i];
            using var fill = new SKPaint { Color = new SKColor(color.R, color.G, color.B), IsAntialias = false, Style = SKPaintStyle.Fill };
            canvas.DrawRect(new SKRect(x, y, x + w, y + h), fill);
            canvas.DrawRect(new SKRect(x - 0.5f, y - 0.5f, x + w + 0.5f, y + h + 0.5f), grey);
            canvas.DrawText(label, x + w + 5, y + h - 2, fonts.Label, ink);
        }

        int rowTop = layout.ScaleBar?.Y - 6 ?? layout.Height - 24;
        if (layout.ScaleBar is { } sb && layout.ScaleBarMicrons is { } microns)
        {
            canvas.DrawRect(new SKRect(sb.X, sb.Y, sb.X + sb.Width, sb.Y + sb.Height), solid);
            canvas.DrawText(FormatMicrons(microns), sb.X + sb.Width + 8, rowTop + 14, fonts.Label, ink);
        }
        else
        {
            canvas.DrawText("scale unknown (the slide has no MPP)", Pad, rowTop + 14, fonts.Label, ink);
        }
    }

    /// <summary>The Turbo index of column <paramref name="i"/> of a colour bar <paramref name="width"/> pixels wide.</summary>
    private static int ColorBarIndex(int i, int width) => (int)Math.Round(i * 255.0 / Math.Max(1, width - 1));

    /// <summary>The column of a colour bar showing intensity <paramref name="position"/> (0..1).</summary>
    public static int ColorBarX((int X, int Y, int Width, int Height) bar, double position) =>
        bar.X + (int)Math.Round(Math.Clamp(position, 0, 1) * (bar.Width - 1));

    /// <summary>The legend's faces: a sans-serif the system has (DejaVu Sans on Debian), else Skia's default.</summary>
    private sealed class LegendFonts : IDisposable
    {
        // One face for the process (never disposed: it may be Skia's shared default).
        private static readonly Lazy<SKTypeface> Face = new(() => SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default);

        public LegendFonts()
        {
            Title = new SKFont(Face.Value, 13) { Edging = SKFontEdging.Antialias, Subpixel = true };
            Label = new SKFont(Face.Value, 12) { Edging = SKFontEdging.Antialias, Subpixel = true };
            Small = new SKFont(Face.Value, 11) { Edging = SKFontEdging.Antialias, Subpixel = true };
        }

        public SKFont Title { get; }

        public SKFont Label { get; }

        public SKFont Small { get; }

        public void Dispose()
        {
            Title.Dispose();
            Label.Dispose();
            Small.Dispose();
        }
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
        var mapScaled = ResizeNearest(map, w, h);
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
        var values = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            values[i] = (byte)i;
        }

        using var ramp = MatRows.WrapGray(values, 256, 1);
        using var colored = new Mat();
        Cv2.ApplyColorMap(ramp, colored, ColormapTypes.Turbo);
        var bgr = MatRows.ToBytes(colored);
        var lut = new (byte, byte, byte)[256];
        for (int i = 0; i < 256; i++)
        {
            lut[i] = (bgr[i * 3 + 2], bgr[i * 3 + 1], bgr[i * 3]);
        }

        return lut;
    });
}

/// <summary>What the legend strip under a map picture shows (see <see cref="MapRendering.WithLegend"/>).</summary>
public sealed record MapLegend
{
    /// <summary>The first line: what the picture shows, with the map cell size.</summary>
    public required string Title { get; init; }

    /// <summary>Names over the Turbo colour bar at their intensity (0..1), e.g. each class at its code; null (and no ticks) for no bar.</summary>
    public IReadOnlyList<(double Position, string Label)>? ColorBarLabels { get; init; }

    /// <summary>Ticks under the colour bar at their intensity (0..1), e.g. 0, 1 and the thresholds.</summary>
    public IReadOnlyList<(double Position, string Label)>? ColorBarTicks { get; init; }

    /// <summary>Class swatches (name, colour), or null.</summary>
    public IReadOnlyList<(string Label, (byte R, byte G, byte B) Color)>? Swatches { get; init; }

    /// <summary>Microns per picture pixel across, for the scale bar; null when the slide has no MPP (the legend says so).</summary>
    public double? MicronsPerPixel { get; init; }
}

/// <summary>Where the parts of a legend lie in the picture <see cref="MapRendering.WithLegend"/> returns, in its pixels.</summary>
/// <param name="Width">Width of the whole picture.</param>
/// <param name="Height">Height of the whole picture.</param>
/// <param name="PictureHeight">Rows of the original picture at the top; the legend strip is below.</param>
/// <param name="ColorBar">The colour bar (x, y, width, height), or null.</param>
/// <param name="Swatches">One rectangle per class swatch.</param>
/// <param name="ScaleBar">The scale bar (solid black), or null when the scale is unknown.</param>
/// <param name="ScaleBarMicrons">The length the scale bar states, in µm.</param>
public sealed record LegendLayout(int Width, int Height, int PictureHeight, (int X, int Y, int Width, int Height)? ColorBar,
    IReadOnlyList<(int X, int Y, int Width, int Height)> Swatches, (int X, int Y, int Width, int Height)? ScaleBar, double? ScaleBarMicrons);
