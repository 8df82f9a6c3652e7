using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Histo.Bach;
using Histo.Imaging;
using Histo.Inference;
using Histo.Maps;
using Histo.Outputs;
using Histo.Scoring;
using Histo.Slides;
using SkiaSharp;

namespace Histo.Tests.Inference;

/// <summary>What a person sees in the pipeline's files: palette class maps, legends with class names, scale bars, the cell size.</summary>
public sealed class MapPictureTests
{
    private static readonly string[] BachNames = ["Normal", "Benign", "InSitu", "Invasive"];

    /// <summary>The four BACH classes on diagonals over CMU-1-Small-Region (one-hot probabilities), every fifth cell outside the tissue.</summary>
    private static SlideInferenceResult FourClasses() =>
        PipelineMaps.Checkered(TestPaths.CmuSmall, SlideTestModel.Card(), cellInRegion: (x, y) => (x + 2 * y) % 5 != 0);

    [Fact]
    public void Class_maps_are_palette_pngs_in_the_class_colours_that_every_reader_reads_as_the_same_values()
    {
        var result = FourClasses();
        string root = TestPaths.NewTempDirectory();
        SlideOutputs.Write(root, result, new SlideProvenance("four"));
        string dir = Path.Combine(root, "cmu-1-small-region");
        string classMapPath = Path.Combine(dir, "classmap.png"), bachPath = Path.Combine(dir, "bach.png");
        var bach = result.BachMap()!;
        Assert.Equal(new[] { 0, 1, 2, 3, 255 }, result.ClassMap.Distinct().Order().Select(v => (int)v));

        // Palette PNGs (colour type 3, 8 bits) whose palette is the one class palette: geometry.json's colours, which
        // the GeoJSON and the viewer use; no tissue is white. bach.png's palette is the BACH colours by code.
        var geometryColours = MapGeometry.Load(Path.Combine(dir, "geometry.json")).ClassColors!.Select(Rgb).ToList();
        Assert.Equal(SlideOutputs.ClassColors(result.Card), geometryColours);
        var (colourType, bitDepth, palette) = ReadPngHeader(classMapPath);
        Assert.Equal((3, 8), (colourType, bitDepth));
        Assert.Equal(geometryColours, palette.Take(4));
        Assert.Equal(((byte)255, (byte)255, (byte)255), palette[255]);
        var (bachType, bachDepth, bachPalette) = ReadPngHeader(bachPath);
        Assert.Equal((3, 8), (bachType, bachDepth));
        Assert.Equal(Enumerable.Range(0, 4).Select(ClassPalette.ColorOfBachCode), bachPalette.Take(4));

        // Histo reads the values back; libpng (through OpenCV) and SkiaSharp, which expand the palette as image
        // viewers do, see every cell in its class colour.
        Assert.Equal(result.ClassMap, ImageIO.LoadGray(classMapPath).Pixels);
        Assert.Equal(bach, ImageIO.LoadGray(bachPath).Pixels);
        foreach (var (path, values, colours) in new[] { (classMapPath, result.ClassMap, palette), (bachPath, bach, bachPalette) })
        {
            var opencv = ImageIO.Load(path);
            using var skia = SKBitmap.Decode(path);
            Assert.NotNull(skia);
            for (int i = 0; i < values.Length; i++)
            {
                int x = i % opencv.Width, y = i / opencv.Width;
                var expected = colours[values[i]];
                var (r, g, b, a) = opencv.GetPixel(x, y);
                Assert.True((r, g, b, a) == (expected.R, expected.G, expected.B, 255), $"{Path.GetFileName(path)} cell {i} is ({r}, {g}, {b}, {a}) in OpenCV");
                var s = skia.GetPixel(x, y);
                Assert.True((s.Red, s.Green, s.Blue) == expected, $"{Path.GetFileName(path)} cell {i} is {s} in SkiaSharp");
            }
        }

        // The readers of the code base: tune's (the maps rebuilt from the directory), score's (bach.png as the
        // prediction and as a truth mask) and the viewer's class-map layer.
        Assert.Equal(result.ClassMap, SlideOutputs.Read(dir, result.Card).ClassMap);
        string truth = Path.Combine(root, "truth.png");
        ImageIO.SaveGray(truth, bach, result.Geometry.Width, result.Geometry.Height);
        var scored = SlideScorer.Score(dir, truth);
        Assert.Equal(1.0, scored.Score.Score!.Value, 12);
        Assert.Equal((long)bach.Length, scored.Score.PixelCount);
        Assert.Equal(bach, GroundTruth.Load(bachPath, result.Geometry).Pixels);

        var layer = ImageIO.Decode(Histo.Viewer.OverlayRenderer.ClassMapPng(classMapPath, Histo.Viewer.PredictionGeometry.Load(Path.Combine(dir, "geometry.json"))));
        var g0 = result.Geometry;
        for (int i = 0; i < result.ClassMap.Length; i++)
        {
            int x = (int)(((i % g0.Width) + 0.5) * layer.Width / g0.Width), y = (int)(((i / g0.Width) + 0.5) * layer.Height / g0.Height);
            var (r, g, b, a) = layer.GetPixel(x, y);
            if (result.ClassMap[i] == 255)
            {
                Assert.Equal(0, a);
            }
            else
            {
                Assert.Equal((geometryColours[result.ClassMap[i]].R, geometryColours[result.ClassMap[i]].G, geometryColours[result.ClassMap[i]].B, (byte)255), (r, g, b, a));
            }
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(2)]
    [InlineData(1)]
    public void Palette_pngs_of_other_writers_read_as_their_indices(int bits)
    {
        // Made by libvips (libpng) with every row filter and 2^bits colours: the indices Histo reads, looked up in the
        // palette, are the colours libpng itself decodes (through OpenCV).
        string path = TestPaths.Fixture($"cmu-1000-1200-64-palette-{bits}bit.png");
        var (colourType, bitDepth, palette) = ReadPngHeader(path);
        Assert.Equal((3, bits), (colourType, bitDepth));
        var (indices, width, height) = ImageIO.LoadGray(path);
        var colours = ImageIO.Load(path);
        Assert.Equal((colours.Width, colours.Height), (width, height));
        Assert.True(indices.Distinct().Count() > 1);
        Assert.All(indices, v => Assert.InRange(v, 0, (1 << bits) - 1));
        for (int i = 0; i < indices.Length; i++)
        {
            var (r, g, b, _) = colours.GetPixel(i % width, i / width);
            Assert.Equal(palette[indices[i]], (r, g, b));
        }
    }

    [Fact]
    public void Corrupt_palette_pngs_are_refused_with_a_typed_error()
    {
        string dir = TestPaths.NewTempDirectory();
        string good = Path.Combine(dir, "good.png");
        ImageIO.SaveIndexed(good, [0, 1, 2, 255], 2, 2, SlideOutputs.BachMapPalette);
        Assert.Equal([0, 1, 2, 255], ImageIO.LoadGray(good).Pixels);
        byte[] bytes = File.ReadAllBytes(good);

        string truncated = Path.Combine(dir, "truncated.png");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 20)]);
        Assert.Throws<ImageFormatException>(() => ImageIO.LoadGray(truncated));

        string flipped = Path.Combine(dir, "flipped.png");
        var copy = (byte[])bytes.Clone();
        copy[^20] ^= 0x55; // inside the image data: the chunk's CRC no longer matches
        File.WriteAllBytes(flipped, copy);
        var e = Assert.Throws<ImageFormatException>(() => ImageIO.LoadGray(flipped));
        Assert.Contains("flipped.png", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heatmap_and_overlay_pictures_have_class_names_on_their_colour_bar_the_cell_size_and_a_true_scale_bar()
    {
        var result = FourClasses();
        string root = TestPaths.NewTempDirectory();
        SlideOutputs.Write(root, result, new SlideProvenance("four"));
        string dir = Path.Combine(root, "cmu-1-small-region");
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var thumbnail = slide.GetThumbnail(1024);
        var g = result.Geometry;
        double mppX = slide.MppX!.Value, mppY = slide.MppY!.Value;

        // summary.json states the cell size: the longer side of a cell, in µm.
        double cellMicrons = Math.Max(slide.Width * mppX / g.Width, slide.Height * mppY / g.Height);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))))
        {
            Assert.Equal(cellMicrons, summary.RootElement.GetProperty("cell_size_um").GetDouble(), 3);
        }

        var layer = ImageIO.Load(Path.Combine(dir, "heatmap-layer.png"));
        int factor = MapRendering.EnlargementFactor(g.Width, g.Height);
        var pictures = new[]
        {
            ("heatmap.png", MapRendering.Enlarge(layer, factor), slide.Width * mppX / g.Width / factor, SlideOutputs.HeatmapLegend(result, factor)),
            ("overlay.png", MapRendering.Overlay(thumbnail, layer, slide.Width, slide.Height, 0, 0, slide.Width, slide.Height), slide.Width * mppX / thumbnail.Width,
                SlideOutputs.OverlayLegend(result, slide.Width, thumbnail.Width)),
        };
        foreach (var (file, picture, micronsPerPixel, legend) in pictures)
        {
            var written = ImageIO.Load(Path.Combine(dir, file));
            var layout = MapRendering.Layout(picture.Width, picture.Height, legend);
            Assert.Equal((layout.Width, layout.Height), (written.Width, written.Height));
            Assert.True(written.Height >= picture.Height + 80, $"{file}: a legend strip under the picture");
            for (int y = 0; y < picture.Height; y += 3)
            {
                for (int x = 0; x < picture.Width; x += 3)
                {
                    var (r, gr, b, _) = picture.GetPixel(x, y);
                    Assert.True(written.GetPixel(x, y) == (r, gr, b, 255), $"{file}: picture pixel ({x}, {y}) changed");
                }
            }

            // The title says the cell size summary.json gives, and is drawn.
            Assert.Contains("map cell " + (Math.Round(cellMicrons, 1)).ToString("0.#", CultureInfo.InvariantCulture) + " µm", legend.Title, StringComparison.Ordinal);
            Assert.True(Ink(written, 0, picture.Height, layout.Width, 24) > 60, $"{file}: the title line has text");

            // Every class is named over the colour bar where the bar has the colour of that class's cells in the map.
            var bar = layout.ColorBar!.Value;
            Assert.Equal(BachNames, legend.ColorBarLabels!.Select(l => l.Label));
            for (int k = 0; k < 4; k++)
            {
                int cell = Array.IndexOf(result.ClassMap, (byte)k);
                var cellColour = layer.GetPixel(cell % g.Width, cell / g.Width);
                int x = MapRendering.ColorBarX(bar, legend.ColorBarLabels![k].Position);
                var (r, gr, b, _) = written.GetPixel(x, bar.Y + bar.Height / 2);
                Assert.True(Math.Abs(r - cellColour.R) <= 8 && Math.Abs(gr - cellColour.G) <= 8 && Math.Abs(b - cellColour.B) <= 8,
                    $"{file}: the bar under {BachNames[k]} is ({r}, {gr}, {b}); its cells are ({cellColour.R}, {cellColour.G}, {cellColour.B})");
                Assert.True(Ink(written, Math.Clamp(x - 40, 0, layout.Width - 80), bar.Y - 18, 80, 13) > 15, $"{file}: the name {BachNames[k]} is drawn over the bar");
            }

            // The scale bar: solid black, as long as the length it states at the picture's µm per pixel.
            var scale = layout.ScaleBar!.Value;
            double stated = layout.ScaleBarMicrons!.Value;
            double mantissa = stated / Math.Pow(10, Math.Floor(Math.Log10(stated) + 1e-9));
            Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2.0, 5.0 });
            Assert.Equal((int)Math.Round(stated / micronsPerPixel), scale.Width);
            Assert.InRange(scale.Width, picture.Width / 10, picture.Width / 4 + 1);
            for (int y = scale.Y; y < scale.Y + scale.Height; y++)
            {
                int run = 0;
                while (written.GetPixel(scale.X + run, y) == (0, 0, 0, 255))
                {
                    run++;
                }

                Assert.True(run == scale.Width, $"{file}: the scale bar's row {y} is {run} black pixels, not {scale.Width}");
                Assert.True(written.GetPixel(scale.X - 1, y) != (0, 0, 0, 255), $"{file}: the scale bar starts at x {scale.X}");
            }

            Assert.True(Ink(written, scale.X + scale.Width + 4, scale.Y - 6, 90, 18) > 15, $"{file}: the scale bar's length is written beside it");
        }
    }

    [Fact]
    public void Without_an_mpp_the_legend_says_the_scale_is_unknown()
    {
        var legend = new MapLegend { Title = "t", ColorBarLabels = [(0, "a"), (1, "b")], MicronsPerPixel = null };
        var layout = MapRendering.Layout(300, 200, legend);
        Assert.Null(layout.ScaleBar);
        Assert.Null(layout.ScaleBarMicrons);
        var picture = MapRendering.WithLegend(new RgbaImage(300, 200), legend);
        Assert.True(Ink(picture, 0, layout.Height - 26, layout.Width, 24) > 40, "the scale line says the scale is unknown");
        Assert.Equal(500.0, MapRendering.ScaleBarMicrons(2.0, 1000));
        Assert.Equal(200.0, MapRendering.ScaleBarMicrons(1.0, 1000));
        Assert.Equal("2 mm", MapRendering.FormatMicrons(2000));
        Assert.Equal("50 µm", MapRendering.FormatMicrons(50));
    }

    /// <summary>Pixels darker than mid-grey in a rectangle (text is drawn black on white).</summary>
    private static int Ink(RgbaImage image, int x0, int y0, int width, int height)
    {
        int count = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(image.Height, y0 + height); y++)
        {
            for (int x = Math.Max(0, x0); x < Math.Min(image.Width, x0 + width); x++)
            {
                var (r, g, b, _) = image.GetPixel(x, y);
                count += 0.299 * r + 0.587 * g + 0.114 * b < 110 ? 1 : 0;
            }
        }

        return count;
    }

    private static (byte R, byte G, byte B) Rgb(string? hex) =>
        hex is null ? throw new ArgumentNullException(nameof(hex), "a class without a colour") : (byte.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
         byte.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
         byte.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    /// <summary>The colour type, bit depth and palette of a PNG, read from its chunks (independently of Histo's decoder).</summary>
    private static (int ColourType, int BitDepth, List<(byte R, byte G, byte B)> Palette) ReadPngHeader(string path)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.Equal("\x89PNG\r\n\x1a\n", string.Concat(png[..8].Select(b => (char)b)));
        int colourType = -1, bitDepth = -1;
        var palette = new List<(byte, byte, byte)>();
        for (int at = 8; at + 8 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (bitDepth, colourType) = (data[8], data[9]);
            }
            else if (type == "PLTE")
            {
                for (int i = 0; i + 2 < data.Length; i += 3)
                {
                    palette.Add((data[i], data[i + 1], data[i + 2]));
                }
            }

            at += 12 + length;
        }

        return (colourType, bitDepth, palette);
    }
}
