using System.Globalization;
using System.Text.Json;
using Histo.Annotations;
using Histo.Imaging;
using Histo.Inference;
using Histo.Maps;
using Histo.Models;
using Histo.Outputs;
using Histo.Scoring;
using Histo.Slides;

namespace Histo.Tests.Inference;

public sealed class SlideInferenceTests
{
    /// <summary>
    /// Runs the test model on a slide. Without a stride in <paramref name="options"/> the patches are cut edge to edge
    /// (64 px, a few dozen per slide) to keep the tests fast; the default stride has its own test.
    /// </summary>
    private static SlideInferenceResult Run(SlideInferenceOptions? options = null, string? slide = null)
    {
        using var model = SlideTestModel.Load();
        options ??= new SlideInferenceOptions { ReaderThreads = 2 };
        return new SlideInference(model, options with { StridePixels = options.StridePixels ?? EdgeToEdge }).Run(slide ?? TestPaths.CmuSmall);
    }

    /// <summary>The test model's patch size: a stride of one patch, no overlap.</summary>
    private const int EdgeToEdge = 64;

    [Fact]
    public void The_writer_uses_the_thumbnail_the_pipeline_took_and_never_reopens_the_slide()
    {
        // A copy of the slide that is deleted after inference: writing its outputs must not need the file.
        string copy = Path.Combine(TestPaths.NewTempDirectory(), "cmu-1-small-region.svs");
        File.Copy(TestPaths.CmuSmall, copy);
        using var model = SlideTestModel.Load();
        var options = new SlideInferenceOptions { ReaderThreads = 2, StridePixels = EdgeToEdge, ThumbnailMaxPixels = 300 };
        var result = new SlideInference(model, options).Run(copy);
        File.Delete(copy);

        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            Assert.Equal((slide.Width, slide.Height), result.SlideSizePixels);
            Assert.Equal(300, Math.Max(result.Thumbnail!.Width, result.Thumbnail.Height));
        }

        string outRoot = TestPaths.NewTempDirectory();
        SlideOutputs.Write(outRoot, result, new SlideProvenance("m"));
        Assert.True(ImageIO.Load(Path.Combine(outRoot, "cmu-1-small-region", "overlay.png")).Width > 0);

        // A result read back from files has no thumbnail: the short form says so instead of opening anything.
        var read = SlideOutputs.Read(Path.Combine(outRoot, "cmu-1-small-region"), model.Card);
        Assert.Null(read.Thumbnail);
        var refused = Assert.Throws<InvalidParameterException>(() => SlideOutputs.Write(TestPaths.NewTempDirectory(), read, new SlideProvenance("m")));
        Assert.Contains("no thumbnail", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_are_complete_and_consistent_with_each_other()
    {
        var result = Run();
        string outRoot = TestPaths.NewTempDirectory();
        var summary = SlideOutputs.Write(outRoot, result, new SlideProvenance("bach-test-model"));
        string dir = Path.Combine(outRoot, "cmu-1-small-region");
        foreach (string file in new[] { "heatmap.png", "heatmap-layer.png", "overlay.png", "classmap.png", "bach.png", "geometry.json", "patches.csv", "prediction.geojson", "summary.json" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file + " missing");
        }

        Assert.Empty(Directory.EnumerateDirectories(outRoot, ".*"));

        // Geometry: the map covers the slide, one cell per stride (64 px at 4 µm/px = about 512 level-0 px here).
        var geometry = MapGeometry.Load(Path.Combine(dir, "geometry.json"));
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            Assert.Equal(slide.Width, geometry.Level0Width);
            Assert.Equal(slide.Height, geometry.Level0Height);
            Assert.InRange(geometry.Level0PerPixelX, 4.0 / slide.MppX!.Value * 64 * 0.8, 4.0 / slide.MppX.Value * 64 * 1.25);
        }

        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], geometry.Classes);

        // Class map: class indices and 255; BACH map = codes, no tissue = 0.
        var (classMap, w, h) = ImageIO.LoadGray(Path.Combine(dir, "classmap.png"));
        var (bach, bw, bh) = ImageIO.LoadGray(Path.Combine(dir, "bach.png"));
        Assert.Equal((geometry.Width, geometry.Height), (w, h));
        Assert.Equal((w, h), (bw, bh));
        Assert.Equal(result.ClassMap, classMap);
        Assert.All(classMap, v => Assert.True(v is < 4 or 255));
        Assert.Contains(classMap, v => v == 255);
        Assert.Contains(classMap, v => v < 4);
        for (int i = 0; i < classMap.Length; i++)
        {
            Assert.Equal(classMap[i] == 255 ? 0 : classMap[i], bach[i]);
        }

        // patches.csv: one row per patch, probabilities sum to 1, inside the slide.
        var rows = File.ReadAllLines(Path.Combine(dir, "patches.csv"));
        Assert.Equal("level0_x,level0_y,level0_size,tissue_fraction,p_Normal,p_Benign,p_InSitu,p_Invasive", rows[0]);
        Assert.Equal(result.Patches.Count, rows.Length - 1);
        Assert.InRange(result.Patches.Count, 5, 60);
        foreach (string row in rows.Skip(1))
        {
            var f = row.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.InRange(f[2..4].Length, 2, 2);
            Assert.Equal(1.0, f[4..].Sum(), 3);
            Assert.InRange(f[3], 0.05, 1.0);
        }

        // The map is the argmax of the per-class probability maps (no thresholds in the card).
        for (int cell = 0; cell < classMap.Length; cell++)
        {
            if (classMap[cell] != 255)
            {
                var p = result.ProbabilityMaps.Select(m => m[cell]).ToArray();
                Assert.Equal(Array.IndexOf(p, p.Max()), classMap[cell]);
                Assert.Equal(p[1] / 3 + 2 * p[2] / 3 + p[3], result.Intensity[cell], 4);
            }
            else
            {
                Assert.True(double.IsNaN(result.Intensity[cell]));
            }
        }

        // GeoJSON: QuPath's shape, readable by our reader, and rasterising it gives back the class map.
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "prediction.geojson"))))
        {
            var feature = doc.RootElement.GetProperty("features")[0];
            Assert.Equal("annotation", feature.GetProperty("properties").GetProperty("objectType").GetString());
            Assert.Equal(3, feature.GetProperty("properties").GetProperty("classification").GetProperty("color").GetArrayLength());
        }

        var set = AnnotationReader.Read(Path.Combine(dir, "prediction.geojson"));
        Assert.NotEmpty(set.Annotations);
        var redrawn = geometry.CreateMask(Enumerable.Repeat((byte)255, classMap.Length).ToArray());
        AnnotationRasterizer.Paint(redrawn, set.Annotations);
        Assert.Equal(classMap, redrawn.Pixels);

        // Summary: per-class areas sum to the tissue area, fractions to 1.
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))))
        {
            var root = doc.RootElement;
            Assert.Equal(result.Patches.Count, root.GetProperty("patch_count").GetInt32());
            Assert.Equal("bach-test-model", root.GetProperty("model").GetProperty("name").GetString());
            JsonElement engine = root.GetProperty("engine");
            Assert.Equal("fused-fp32", engine.GetProperty("name").GetString()); // the default engine, passed its self-check
            Assert.False(engine.GetProperty("fallback").GetBoolean());
            Assert.Equal(JsonValueKind.Null, engine.GetProperty("replaced").ValueKind);
            double tissue = root.GetProperty("tissue_area_mm2").GetDouble();
            var classes = root.GetProperty("classes").EnumerateArray().ToList();
            Assert.Equal(4, classes.Count);
            Assert.Equal(tissue, classes.Sum(c => c.GetProperty("area_mm2").GetDouble()), 4);
            Assert.Equal(1.0, classes.Sum(c => c.GetProperty("fraction_of_tissue").GetDouble()), 4);
            double cellMm2 = geometry.Level0PerPixelX * geometry.Level0PerPixelY * 0.499 * 0.499 / 1e6;
            Assert.Equal(classMap.Count(v => v != 255) * cellMm2, tissue, 2);
            foreach (var c in classes.Where(c => c.GetProperty("cells").GetInt64() > 0))
            {
                Assert.InRange(c.GetProperty("largest_focus").GetProperty("area_mm2").GetDouble(), cellMm2 * 0.99, c.GetProperty("area_mm2").GetDouble() + 1e-9);
            }
        }

        Assert.Equal(result.Patches.Count, summary.PatchCount);
    }

    [Fact]
    public void Histo_score_reads_the_output_of_the_bach_window()
    {
        var result = Run(slide: TestPaths.A01Window);
        string outRoot = TestPaths.NewTempDirectory();
        SlideOutputs.Write(outRoot, result, new SlideProvenance("m"));
        var report = SlideScorer.Score(Path.Combine(outRoot, "A01-window"), TestPaths.A01Labels);
        Assert.Equal(result.Geometry.Width * result.Geometry.Height, report.Score.PixelCount);
        Assert.True(report.Score.TruthCount(1) > 0, "the benign duct must be on the truth map");
        Assert.InRange(result.Patches.Count, 20, 81);
    }

    [Fact]
    public void Overlapping_patches_give_a_finer_map_averaging_every_covering_patch()
    {
        var coarse = Run();
        var fine = Run(new SlideInferenceOptions { StridePixels = 32, ReaderThreads = 2 });
        Assert.InRange(fine.Geometry.Width, 2 * coarse.Geometry.Width - 1, 2 * coarse.Geometry.Width + 1);
        Assert.True(fine.Patches.Count > 2 * coarse.Patches.Count);

        // One cell away from the edges is covered by up to four patches; its probabilities are their mean.
        var g = fine.Geometry;
        int cell = Enumerable.Range(0, g.Width * g.Height).First(i => fine.ClassMap[i] != 255 && i % g.Width > 1 && i / g.Width > 1);
        double cx = (cell % g.Width + 0.5) * g.Level0PerPixelX, cy = (cell / g.Width + 0.5) * g.Level0PerPixelY;
        var covering = fine.Patches.Where(p => p.Level0X <= cx && cx < p.Level0X + p.Level0Size && p.Level0Y <= cy && cy < p.Level0Y + p.Level0Size).ToList();
        Assert.NotEmpty(covering);
        Assert.Equal(covering.Average(p => p.Probabilities[0]), fine.ProbabilityMaps[0][cell], 4);
    }

    [Fact]
    public void Results_do_not_depend_on_reader_threads()
    {
        var one = Run(new SlideInferenceOptions { ReaderThreads = 1, BatchSize = 5 });
        var two = Run(new SlideInferenceOptions { ReaderThreads = 2, BatchSize = 5 });
        Assert.Equal(one.Patches.Select(p => (p.Level0X, p.Level0Y)), two.Patches.Select(p => (p.Level0X, p.Level0Y)));
        Assert.Equal(one.Patches.SelectMany(p => p.Probabilities), two.Patches.SelectMany(p => p.Probabilities));
        Assert.Equal(one.ClassMap, two.ClassMap);
    }

    [Fact]
    public void Preprocessing_on_the_reader_threads_gives_the_same_probabilities_as_predict()
    {
        using var model = SlideTestModel.Load();
        var prepared = new SlideInference(model, new SlideInferenceOptions { ReaderThreads = 2, StridePixels = EdgeToEdge }).Run(TestPaths.CmuSmall);
        var plain = new SlideInference(new PlainClassifier(model), new SlideInferenceOptions { ReaderThreads = 2, StridePixels = EdgeToEdge }).Run(TestPaths.CmuSmall);
        Assert.Equal(plain.Patches.SelectMany(p => p.Probabilities), prepared.Patches.SelectMany(p => p.Probabilities));
    }

    /// <summary>The real model seen only through <see cref="IPatchClassifier"/> (so the pipeline cannot prepare patches itself).</summary>
    private sealed class PlainClassifier(IPatchClassifier inner) : IPatchClassifier
    {
        public ModelCard Card => inner.Card;

        public EngineUsage Engine => inner.Engine;

        public float[][] Predict(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default) => inner.Predict(patches, cancellationToken);

        public void Dispose()
        {
        }
    }

    [Fact]
    public void Thresholds_come_from_the_card_and_an_option_overrides_them()
    {
        string dir = SlideTestModel.Copy();
        var card = ModelCard.Load(dir);
        card.Thresholds = [0, 0.2, 0.3, 0.4];
        card.Save(dir);
        using var model = SlideTestModel.Load(dir);
        var tuned = new SlideInference(model, new SlideInferenceOptions { StridePixels = EdgeToEdge });
        Assert.Equal([0, 0.2, 0.3, 0.4], tuned.Rule.Thresholds);
        var result = tuned.Run(TestPaths.CmuSmall);
        for (int cell = 0; cell < result.ClassMap.Length; cell++)
        {
            if (result.ClassMap[cell] != 255)
            {
                Assert.Equal(ClassMapRule.CodeForIntensity(result.Intensity[cell], [0, 0.2, 0.3, 0.4]), result.ClassMap[cell]);
            }
        }

        Assert.Null(new SlideInference(model, new SlideInferenceOptions { Rule = ClassMapRule.Argmax }).Rule.Thresholds);
        Assert.Throws<InvalidParameterException>(() => new SlideInference(model, new SlideInferenceOptions { Rule = ClassMapRule.WithThresholds([0, 0.5]) }));
    }

    [Fact]
    public void A_blank_field_warns_once_that_the_maps_are_empty()
    {
        // Detected tissue is empty on white glass: the detector's own "no tissue" warning is dropped by its code and
        // the pipeline's (about the maps) is the one the user sees, so the warning is not doubled.
        string dir = TestPaths.NewTempDirectory();
        string blank = Path.Combine(dir, "blank.tif");
        var white = new RgbaImage(1024, 1024);
        Array.Fill(white.Pixels, (byte)255);
        ImageIO.SaveTiff(blank, white, 2.0);

        var result = Run(slide: blank);
        Assert.Empty(result.Patches);
        var noTissue = Assert.Single(result.Warnings, w => w.Code == WarningCode.NoTissue);
        Assert.Equal("no tissue found: the maps are empty", noTissue.Message);
    }

    [Fact]
    public void An_empty_region_gives_a_valid_empty_result()
    {
        string dir = TestPaths.NewTempDirectory();
        string empty = Path.Combine(dir, "empty.png");
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            ImageIO.SaveGray(empty, new byte[(slide.Width / 10) * (slide.Height / 10)], (int)slide.Width / 10, (int)slide.Height / 10);
        }

        var result = Run(new SlideInferenceOptions { Region = RegionOfInterest.FromPath(empty) });
        Assert.Empty(result.Patches);
        Assert.All(result.ClassMap, v => Assert.Equal(255, v));
        Assert.Contains(result.Warnings, w => w.Code == WarningCode.NoTissue && w.Message.Contains("no tissue", StringComparison.Ordinal));
        var summary = SlideOutputs.Write(dir, result, new SlideProvenance("m"));
        Assert.Equal(0, summary.TissueCells);
        Assert.Equal(0, summary.TissueAreaMm2);
        var set = AnnotationReader.Read(Path.Combine(dir, "cmu-1-small-region", "prediction.geojson"));
        Assert.Empty(set.Annotations);
        Assert.All(ImageIO.LoadGray(Path.Combine(dir, "cmu-1-small-region", "bach.png")).Pixels, v => Assert.Equal(0, v));
    }

    [Fact]
    public void An_annotation_region_limits_the_patches_to_its_polygons()
    {
        string dir = TestPaths.NewTempDirectory();
        string roi = Path.Combine(dir, "roi.geojson");
        var square = new AnnotationPolygon([new(0, 1000), new(1200, 1000), new(1200, 2200), new(0, 2200)]);
        AnnotationWriter.SaveGeoJson(roi, [new Annotation("Region", 1, [square])]);
        var all = Run();
        var inside = Run(new SlideInferenceOptions { Region = RegionOfInterest.FromPath(roi) });
        Assert.IsType<RegionOfInterest.AnnotationFile>(RegionOfInterest.FromPath(roi));
        Assert.NotEmpty(inside.Patches);
        Assert.All(inside.Patches, p => Assert.True(p.Level0X < 1200 && p.Level0Y + p.Level0Size > 1000 && p.Level0Y < 2200));
        Assert.NotEqual(all.Patches.Count, inside.Patches.Count);
    }

    [Fact]
    public void A_slide_without_mpp_is_refused_for_a_model_with_mpp_and_cut_at_level_0_otherwise()
    {
        string dir = TestPaths.NewTempDirectory();
        string png = Path.Combine(dir, "nompp.png");
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            ImageIO.Save(png, slide.ReadRegion(600, 1200, 0, 256, 256));
        }

        using (var model = SlideTestModel.Load())
        {
            var e = Assert.Throws<HistoException>(() => new SlideInference(model).Run(png));
            Assert.Contains("no MPP", e.Message, StringComparison.Ordinal);
        }

        string copy = SlideTestModel.Copy();
        var card = ModelCard.Load(copy);
        card.Mpp = null;
        card.Save(copy);
        using var noMpp = SlideTestModel.Load(copy);
        var result = new SlideInference(noMpp, new SlideInferenceOptions { MinTissueFraction = 0 }).Run(png);
        Assert.Contains(result.Warnings, w => w.Code == WarningCode.ModelWithoutMpp && w.Message.Contains("level 0", StringComparison.Ordinal));
        Assert.Equal(16, result.Patches.Count);
        Assert.All(result.Patches, p => Assert.Equal(64, p.Level0Size));
    }

    [Fact]
    public void By_default_map_cells_are_at_most_100_um_and_the_summary_and_pictures_say_their_size()
    {
        // The test model's 64-px patches at 4 µm/px are 256 µm: edge to edge, CMU-1-Small-Region would be a 4 x 6 map.
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var card = SlideTestModel.Card();
        double downsample = Histo.Patches.Resolution.Mpp(4).Resolve(slide).Level0Downsample;
        int stride = SlideInference.DefaultStridePixels(card, downsample, slide.MppX, slide.MppY, slide.Width, slide.Height);
        double CellMicrons(int s) => Math.Max(
            (double)slide.Width / MapAggregation.MapCells(slide.Width, s * downsample) * slide.MppX!.Value,
            (double)slide.Height / MapAggregation.MapCells(slide.Height, s * downsample) * slide.MppY!.Value);

        // 25 px is 100 µm, but 1108 µm across in 11 whole cells makes them 100.7 µm: the default steps 24 px.
        Assert.Equal(24, stride);
        Assert.True(CellMicrons(25) > 100);
        Assert.InRange(CellMicrons(24), 90, 100);

        using var model = SlideTestModel.Load();
        var result = new SlideInference(model, new SlideInferenceOptions { ReaderThreads = 2 }).Run(slide);
        Assert.Equal(CellMicrons(24), result.CellSizeMicrons!.Value, 9);
        Assert.Equal((MapAggregation.MapCells(slide.Width, 24 * downsample), MapAggregation.MapCells(slide.Height, 24 * downsample)),
            (result.Geometry.Width, result.Geometry.Height));
        Assert.All(result.Patches, p => Assert.Equal(Math.Round(64 * downsample), p.Level0Size)); // patches keep their size and overlap
        var columns = result.Patches.Select(p => p.Level0X).Distinct().Order().ToList();
        var steps = columns.Zip(columns.Skip(1), (a, b) => b - a).ToList();
        Assert.Contains(steps, d => Math.Abs(d - 24 * downsample) <= 1);
        Assert.All(steps, d => Assert.True(d <= 24 * downsample + 1, $"a step of {d} level-0 px"));

        string outRoot = TestPaths.NewTempDirectory();
        SlideOutputs.Write(outRoot, result, new SlideProvenance("m"));
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outRoot, "cmu-1-small-region", "summary.json"))))
        {
            Assert.Equal(Math.Round(result.CellSizeMicrons.Value, 3), doc.RootElement.GetProperty("cell_size_um").GetDouble(), 9);
        }

        Assert.Contains("map cell " + Math.Round(result.CellSizeMicrons.Value, 1).ToString("0.#", CultureInfo.InvariantCulture) + " µm",
            SlideOutputs.HeatmapLegend(result, 1).Title, StringComparison.Ordinal);

        // A stride that is given is kept.
        var edgeToEdge = Run();
        Assert.InRange(edgeToEdge.CellSizeMicrons!.Value, 240, 290);
    }

    [Fact]
    public void A_model_trained_on_overlapping_crops_maps_slides_at_its_crop_stride_when_cells_stay_small()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        double downsample = Histo.Patches.Resolution.Mpp(4).Resolve(slide).Level0Downsample;
        var card = SlideTestModel.Card();
        int Default() => SlideInference.DefaultStridePixels(card, downsample, slide.MppX, slide.MppY, slide.Width, slide.Height);

        card.CropStridePixels = 19.6; // 80 µm: the crop stride is the default
        Assert.Equal(20, SlideInference.StridePixelsFor(card, null));
        Assert.Equal(20, Default());
        Assert.Equal(7, SlideInference.StridePixelsFor(card, 7));
        card.CropStridePixels = 31.6; // 128 µm: shortened like the patch size
        Assert.Equal(32, SlideInference.StridePixelsFor(card, null));
        Assert.Equal(24, Default());
        card.CropStridePixels = null;
        Assert.Null(SlideInference.StridePixelsFor(card, null));

        // Without an MPP nothing is known in µm: the model's own stride.
        Assert.Equal(64, SlideInference.DefaultStridePixels(card, 1, null, null, slide.Width, slide.Height));

        string copy = SlideTestModel.Copy();
        var saved = ModelCard.Load(copy);
        saved.CropStridePixels = 19.6;
        saved.Save(copy);
        using var crops = SlideTestModel.Load(copy);
        var byDefault = new SlideInference(crops, new SlideInferenceOptions { ReaderThreads = 2 }).Run(slide);
        Assert.Equal(MapAggregation.MapCells(slide.Width, 20 * downsample), byDefault.Geometry.Width);
    }

    [Fact]
    public void A_slide_much_coarser_than_the_model_is_refused()
    {
        string copy = SlideTestModel.Copy();
        var card = ModelCard.Load(copy);
        card.Mpp = 0.2;
        card.Save(copy);
        using var fine = SlideTestModel.Load(copy);
        var e = Assert.Throws<HistoException>(() => new SlideInference(fine).Run(TestPaths.A01Window));
        Assert.Contains("much coarser than the model's 0.2 µm/px", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_stops_the_run()
    {
        using var model = SlideTestModel.Load();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new SlideInference(model).Run(TestPaths.CmuSmall, null, cancel.Token));
    }
}
