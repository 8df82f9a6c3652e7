using System.Buffers.Binary;
using System.Text;
using Histo.Bach;
using Histo.Imaging;
using Histo.Maps;

namespace Histo.Tests.Reliability;

/// <summary>What a CLI run on a corrupt input must end with.</summary>
internal enum Expect
{
    /// <summary>One <c>error:</c> line on stderr, exit 1 (2 for usage), no output left behind.</summary>
    Error,

    /// <summary>A defined graceful result: exit 0 and a complete, valid output.</summary>
    Success,

    /// <summary>
    /// A whole-slide run whose slide failed: exit 1, an <c>error:</c> line for the slide, the cohort table recording
    /// it as failed, and no slide output (no summary.json) anywhere.
    /// </summary>
    FailedSlide,

    /// <summary>leakcheck's "leak found": exit 1 with a report on stdout and no <c>error:</c> line.</summary>
    Leak,
}

/// <summary>
/// One CLI run. <c>{out}</c> in an argument stands for a fresh, empty output folder of this run; <see cref="Output"/>
/// names what a successful run writes there (a file, or a folder for patches), checked to be complete and valid.
/// </summary>
internal sealed record CliRun(string[] Args, Expect Expect, string? ErrorContains = null, string? Output = null, string[]? StdOutContains = null)
{
    /// <summary>When set, the run's peak resident memory must stay at or below this (bounded work, issue 17).</summary>
    public long? MaxPeakRssMegabytes { get; init; }

    /// <summary>Texts stderr must contain (notes and warnings of a successful run).</summary>
    public string[]? StdErrContains { get; init; }

    /// <summary>Texts neither stdout nor stderr may contain (raw escape sequences, say).</summary>
    public string[]? Forbidden { get; init; }

    public override string ToString() => $"histo {string.Join(' ', Args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a))} → {Expect}";
}

/// <summary>
/// A corrupt input derived at test time from the real fixtures, the runs that take it, and why each outcome is the
/// right one. <see cref="Build"/> writes the input into a fresh folder and returns the runs.
/// </summary>
internal sealed record CorruptCase(string Name, string Expectation, Func<CaseFolder, IReadOnlyList<CliRun>> Build, bool Unprivileged = false)
{
    /// <summary>Which test class runs the case (three classes, so xunit runs them side by side).</summary>
    public CorruptGroup Group => Name.Split('-')[0] switch
    {
        "hostile" => CorruptGroup.Hostile,
        "model" => CorruptGroup.Models,
        "svs" => CorruptGroup.Slides,
        "tiff" when Name.StartsWith("tiff-tiled", StringComparison.Ordinal) => CorruptGroup.Slides,
        "png" or "jpeg" or "tiff" => CorruptGroup.Images,
        _ => CorruptGroup.AnnotationsAndDatasets,
    };
}

/// <summary>The kinds of corrupt input.</summary>
internal enum CorruptGroup
{
    Slides,
    Images,
    AnnotationsAndDatasets,
    Hostile,
    Models,
}

/// <summary>The folder a case writes its input into.</summary>
internal sealed class CaseFolder(string path)
{
    public string Path { get; } = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a copy of <paramref name="source"/> changed by <paramref name="mutate"/>.</summary>
    public string Derive(string source, string name, Func<byte[], byte[]> mutate)
    {
        string path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, mutate(System.IO.File.ReadAllBytes(source)));
        return path;
    }

    public string Write(string name, byte[] bytes)
    {
        string path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public string WriteText(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));
}

/// <summary>The catalogue of corrupt inputs (issue 8). Every case is derived from /work/shared/data at test time.</summary>
internal static class CorruptInputs
{
    private static string Target => TestPaths.Shared("tissue-tiles", "tiatoolbox", "target_image.png");

    private static string NormalPng => TestPaths.Shared("microscopy", "bach", "Normal", "normal.png");

    private static string KidneyTif => TestPaths.KidneyTif;

    private static string Bach10Xml => TestPaths.Shared("annotations", "bach", "A10.xml");

    private static string CamelyonXml => TestPaths.Shared("annotations", "camelyon17", "patient_004_node_4.xml");

    /// <summary>All cases by name.</summary>
    public static IReadOnlyDictionary<string, CorruptCase> All { get; } = Catalogue().Concat(HostileInputs.Catalogue()).ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>
    /// Every command that takes a slide or image: info, thumbnail, region, tissue, patches, normalize (a region of
    /// the input, and the input as the stain target). <paramref name="info"/> is the expected outcome of opening
    /// (info), <paramref name="reads"/> that of the commands that decode pixels.
    /// </summary>
    public static IReadOnlyList<CliRun> SlideRuns(string input, Expect info, Expect reads, string? contains = null, bool asTarget = true)
    {
        var runs = new List<CliRun>
        {
            new(["info", input, "--json"], info, contains),
            new(["thumbnail", input, "-o", "{out}/thumb.png", "--max-size", "256"], reads, contains, "thumb.png"),
            new(["region", input, "--x", "0", "--y", "0", "--width", "256", "--height", "256", "-o", "{out}/region.png"], reads, contains, "region.png"),
            new(["tissue", input, "-o", "{out}/mask.png", "--overlay", "{out}/overlay.png"], reads, contains, "mask.png"),
            new(["patches", input, "-o", "{out}/patches", "--size", "512", "--level", "0"], reads, contains, "patches"),
            new(["normalize", input, "--x", "0", "--y", "0", "--width", "256", "--height", "256", "--target", Target, "-o", "{out}/norm.png"], reads, contains, "norm.png"),
        };
        if (asTarget && Histo.Slides.SlideFormats.IsImageFile(input))
        {
            // As the stain target the input is decoded whole as an image, not opened as a slide.
            runs.Add(new(["normalize", NormalPng, "--target", input, "-o", "{out}/norm-target.png"], reads, null, "norm-target.png"));
        }

        return runs;
    }

    private static IEnumerable<CorruptCase> Catalogue()
    {
        // ---- Not slides at all --------------------------------------------------------------------------------
        yield return new("svs-empty-file", "a 0-byte .svs: every command fails with 'empty file'",
            f => SlideRuns(f.Write("empty.svs", []), Expect.Error, Expect.Error, "empty"));
        yield return new("svs-is-a-directory", "a directory named .svs: every command fails with 'is a directory'",
            f =>
            {
                string dir = f.File("folder.svs");
                Directory.CreateDirectory(dir);
                return SlideRuns(dir, Expect.Error, Expect.Error, "directory").Where(r => r.Args[0] != "patches")
                    // patches takes folders: a folder holding nothing to cut is its own error.
                    .Append(new(["patches", dir, "-o", "{out}/patches", "--size", "512"], Expect.Error)).ToList();
            });
        yield return new("svs-text-file", "a text file named .svs: every command fails with 'not a recognised slide'",
            f => SlideRuns(f.WriteText("notes.svs", "This is not a slide.\nJust some text someone saved as .svs\n"), Expect.Error, Expect.Error, "not a recognised"));
        yield return new("svs-unreadable-permissions", "small.svs with mode 000, run as uid 65534: every command fails with 'permission denied'",
            f =>
            {
                string path = Locked(f.Derive(TestPaths.TinySvs, "locked.svs", b => b));
                return SlideRuns(path, Expect.Error, Expect.Error, "permission denied", asTarget: false)
                    .Append(new(["normalize", NormalPng, "--target", Locked(f.Derive(NormalPng, "locked.png", b => b)), "-o", "{out}/n.png"], Expect.Error, "permission denied"))
                    .ToList();
            },
            Unprivileged: true);

        // ---- Truncated whole-slide files (the SVS directories sit after the tile data) -----------------------
        yield return new("svs-truncated-header-only", "cmu-1-small-region.svs cut to its 8-byte TIFF header (first IFD beyond end of file): not recognised",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "cut8.svs", b => b[..8]), Expect.Error, Expect.Error));
        yield return new("svs-truncated-in-first-ifd", "cmu SVS cut 50 bytes into its first directory: not recognised",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "cutifd.svs", b => b[..(int)(Layout(b).Directories[0].Offset + 50)]), Expect.Error, Expect.Error));
        yield return new("svs-truncated-mid-tile-data", "cmu SVS cut in the middle of the level-0 tile data (all directories lost): not recognised",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "cutdata.svs", b => b[..(int)(Layout(b).Directories[0].Offset / 2)]), Expect.Error, Expect.Error));
        yield return new("svs-truncated-last-byte", "cmu SVS without its last byte (inside the macro image's directory values): OpenSlide still opens level 0; reads succeed",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "cut1.svs", b => b[..^1]), Expect.Success, Expect.Success));
        yield return new("svs-truncated-after-level0", "cmu SVS cut right after level 0's directory (thumbnail, label, macro lost, next-IFD pointer dangling)",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "cutl0.svs", b => b[..(int)Layout(b).Directories[1].Offset]), Expect.Error, Expect.Error));
        yield return new("tiff-tiled-truncated-mid-level1", "the BACH A01 pyramidal TIFF cut inside level 1's tile data: the directories before the cut survive, so it opens as a one-level 5000 x 5000 slide and level 0 reads work",
            f =>
            {
                string path = f.Derive(TestPaths.A01Window, "a01cut.tif", b => b[..(int)Layout(b).Directories[1].DataOffsets[50]]);
                return [new(["info", path, "--json"], Expect.Success, StdOutContains: ["\"level_count\": 1,"]),
                    new(["region", path, "--x", "4000", "--y", "4000", "--width", "256", "--height", "256", "-o", "{out}/r.png"], Expect.Success, null, "r.png"),
                    new(["thumbnail", path, "-o", "{out}/t.png", "--max-size", "128"], Expect.Success, null, "t.png")];
            });

        // ---- Tile data corrupted in place (structure intact) ---------------------------------------------------
        yield return new("svs-jpeg-tile-zeroed", "cmu SVS with level-0 tile 0 (top-left) overwritten with zeros: opens (info works); every read of that tile fails with OpenSlide's JPEG error",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "zeroed.svs", b => MutateTile(b, 0, 0, t => t.Clear())), Expect.Success, Expect.Error, "jpeg"));
        yield return new("svs-jpeg-tile-bitflips", "cmu SVS with bits flipped throughout the entropy-coded data of level-0 tile 0: opens; OpenSlide turns libjpeg's 'Corrupt JPEG data' warning into an error, so reads of that tile fail",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "flipped.svs", b => MutateTile(b, 0, 0, FlipEntropyBits)), Expect.Success, Expect.Error, "corrupt jpeg"));
        yield return new("svs-jpeg-tile-header-bitflip", "cmu SVS with the SOF marker of level-0 tile 0 destroyed: reads of that tile fail",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "sof.svs", b => MutateTile(b, 0, 0, t => DestroyMarker(t, 0xC0))), Expect.Success, Expect.Error));
        yield return new("svs-missing-tile", "cmu SVS with level-0 tile 0's offset and byte count set to 0: OpenSlide reads a missing tile as transparent; thumbnails and regions show it white",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "missing.svs", b => PatchTileEntry(b, 0, 0, offset: 0, byteCount: 0)), Expect.Success, Expect.Success));
        yield return new("svs-tile-offset-beyond-eof", "cmu SVS whose level-0 tile 0 points past the end of the file: OpenSlide hashes the lowest level's tiles when it opens a slide, so opening fails ('Cannot hash TIFF tiles')",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "tileeof.svs", b => PatchTileEntry(b, 0, 0, offset: b.Length + 4096L, byteCount: null)), Expect.Error, Expect.Error, "hash"));
        yield return new("svs-tile-bytecount-absurd", "cmu SVS whose level-0 tile 0 claims 2 GiB of data: reads of it fail without allocating it",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "tilehuge.svs", b => PatchTileEntry(b, 0, 0, offset: null, byteCount: int.MaxValue)), Expect.Success, Expect.Error));
        yield return new("svs-j2k-tile-zeroed", "the TCGA JPEG 2000 SVS with level-1 tile 0 zeroed: opens; reads touching it fail with OpenSlide's JPEG 2000 error",
            f =>
            {
                string path = f.Derive(TestPaths.Tcga, "j2k.svs", b => MutateTile(b, 2, 0, t => t.Clear()));
                return [new(["info", path, "--json"], Expect.Success), new(["thumbnail", path, "-o", "{out}/t.png", "--max-size", "256"], Expect.Error, null, "t.png"),
                    new(["region", path, "--x", "0", "--y", "0", "--width", "64", "--height", "64", "--level", "1", "-o", "{out}/r.png"], Expect.Error, null, "r.png"),
                    new(["tissue", path, "-o", "{out}/m.png"], Expect.Error, null, "m.png")];
            });

        // ---- Broken directory structure ---------------------------------------------------------------------------
        yield return new("svs-first-ifd-offset-beyond-eof", "cmu SVS whose header points its first directory past the end of the file: not recognised",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "ifdeof.svs", b => { TiffLayout.WriteU32(b, 4, (uint)b.Length + 1000); return b; }), Expect.Error, Expect.Error));
        yield return new("svs-first-ifd-offset-into-tile-data", "cmu SVS whose first directory pointer lands in JPEG tile data: not a slide",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "ifdjunk.svs", b => { TiffLayout.WriteU32(b, 4, 1001); return b; }), Expect.Error, Expect.Error));
        yield return new("svs-ifd-loop", "cmu SVS whose level-0 directory names itself as the next one (an IFD loop): libtiff stops at the loop",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "loop.svs", b =>
            {
                var d = Layout(b).Directories[0];
                TiffLayout.WriteU32(b, d.NextPointerOffset, (uint)d.Offset);
                return b;
            }), Expect.Error, Expect.Error));
        yield return new("svs-next-ifd-beyond-eof", "cmu SVS whose level-0 directory's next pointer is past the end of the file",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "nexteof.svs", b =>
            {
                TiffLayout.WriteU32(b, Layout(b).Directories[0].NextPointerOffset, (uint)b.Length + 64);
                return b;
            }), Expect.Error, Expect.Error));

        // ---- Decompression bombs: absurd declared dimensions -----------------------------------------------------
        yield return new("svs-bomb-dimensions", "cmu SVS with level 0 declared 2^31-1 x 2^31-1: the tile arrays no longer match, the slide is rejected",
            f => SlideRuns(f.Derive(TestPaths.CmuSmall, "bomb.svs", b => PatchDimensions(b, 0, int.MaxValue, int.MaxValue)), Expect.Error, Expect.Error));
        yield return new("tiff-flat-bomb-dimensions", "the flat kidney TIFF declared 2^31-1 x 2^31-1: rejected before decoding, no huge allocation",
            f => SlideRuns(f.Derive(KidneyTif, "bomb.tif", b => PatchDimensions(b, 0, int.MaxValue, int.MaxValue)), Expect.Error, Expect.Error));
        yield return new("png-bomb-dimensions", "normal.png with its IHDR declaring 2^31-1 x 2^31-1 (CRC fixed): rejected before decoding",
            f => SlideRuns(f.Derive(NormalPng, "bomb.png", b => PatchPngSize(b, int.MaxValue, int.MaxValue)), Expect.Error, Expect.Error));
        yield return new("png-bomb-20000", "normal.png declared 20000 x 20000 (400 Mpx, CRC fixed) with its small data: rejected before decoding (larger than one read may be)",
            f => SlideRuns(f.Derive(NormalPng, "bomb20k.png", b => PatchPngSize(b, 20000, 20000)), Expect.Error, Expect.Error));
        yield return new("jpeg-bomb-dimensions", "a JPEG of normal.png whose SOF declares 65500 x 65500: rejected before decoding",
            f => SlideRuns(f.Write("bomb.jpg", PatchJpegSize(NormalJpeg(), 65500, 65500)), Expect.Error, Expect.Error));

        // ---- Truncated or damaged plain images ---------------------------------------------------------------------
        yield return new("png-truncated-half", "normal.png cut in half: the decoder fails, one error line",
            f => SlideRuns(f.Derive(NormalPng, "half.png", b => b[..(b.Length / 2)]), Expect.Error, Expect.Error, "not a readable image"));
        yield return new("png-truncated-after-ihdr", "normal.png cut after its IHDR chunk (33 bytes): no pixel data",
            f => SlideRuns(f.Derive(NormalPng, "ihdr.png", b => b[..33]), Expect.Error, Expect.Error));
        yield return new("png-bad-crc", "normal.png with a flipped IHDR byte and a stale CRC: libpng rejects it",
            f => SlideRuns(f.Derive(NormalPng, "crc.png", b => { b[20] ^= 0x01; return b; }), Expect.Error, Expect.Error));
        yield return new("jpeg-truncated-half", "a JPEG of normal.png cut in half: OpenCV refuses the premature end of data, 'not a readable image'",
            f => SlideRuns(f.Write("half.jpg", NormalJpeg()[..(NormalJpeg().Length / 2)]), Expect.Error, Expect.Error, "not a readable image"));
        yield return new("jpeg-only-soi", "a JPEG of normal.png cut to its first 100 bytes (no frame): not readable",
            f => SlideRuns(f.Write("soi.jpg", NormalJpeg()[..100]), Expect.Error, Expect.Error));
        yield return new("tiff-flat-truncated-mid-strip", "the flat kidney TIFF cut in the middle of its strip: libtiff fails, one error line",
            f => SlideRuns(f.Derive(KidneyTif, "cut.tif", b => b[..(b.Length / 2)]), Expect.Error, Expect.Error));

        yield return new("folder-with-one-corrupt-image", "patches over a folder of a good slide, a good image and a PNG cut in half: the run fails on the corrupt file, naming it, and leaves no output (the folder is cut all or nothing)",
            f =>
            {
                string folder = f.File("batch");
                f.Derive(TestPaths.TinySvs, "batch/small.svs", b => b);
                f.Derive(NormalPng, "batch/normal.png", b => b);
                f.Derive(NormalPng, "batch/half.png", b => b[..(b.Length / 2)]);
                return [new(["patches", folder, "-o", "{out}/patches", "--size", "128", "--level", "0"], Expect.Error, "half.png")];
            });

        // ---- Annotations (score PREDICTION TRUTH) --------------------------------------------------------------
        yield return new("xml-malformed", "A10.xml cut mid-element: 'not well-formed XML'",
            f => Score(f, f.Derive(Bach10Xml, "A10.xml", b => b[..(b.Length / 2)]), Expect.Error, "well-formed"));
        yield return new("xml-billion-laughs", "an ImageScope XML with a DTD of nested entities (billion laughs): refused, DTDs are prohibited",
            f => Score(f, f.WriteText("laughs.xml", BillionLaughs), Expect.Error));
        yield return new("xml-all-labels-unknown", "A10.xml with every region labelled 'Mystery tissue': nothing to score, error suggesting --label-map",
            f => Score(f, f.Derive(Bach10Xml, "A10.xml", b => Encoding.UTF8.GetBytes(System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(b), "Text=\"[^\"]*\"", "Text=\"Mystery tissue\""))), Expect.Error, "--label-map"));
        yield return new("xml-some-labels-unknown", "A10.xml with its in-situ regions relabelled 'Mystery tissue': scored; the unknown label is reported in unknown_labels and not painted",
            f =>
            {
                string path = f.Derive(Bach10Xml, "A10.xml", b => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(b).Replace("Text=\"In situ carcinoma\"", "Text=\"Mystery tissue\"", StringComparison.Ordinal)));
                return [new(["score", Prediction(f), path, "--json"], Expect.Success, StdOutContains: ["Mystery tissue"]), new(["score", Prediction(f), path], Expect.Success)];
            });
        yield return new("xml-degenerate-polygons", "ImageScope XML with a 2-vertex region, a bow-tie (self-intersecting) region, a region far outside the slide, NaN/huge coordinates and a 3-times-repeated vertex: scored; each problem is a warning naming what was done",
            f => Score(f, f.WriteText("odd.xml", OddImageScope), Expect.Success,
                warnings: ["2 distinct vertices, a polygon needs 3: skipped", "1 distinct vertices", "crosses itself", "lies entirely outside", "NaN or absurd coordinates"]));
        yield return new("xml-vertex-without-x", "ImageScope XML with a <Vertex> lacking its X attribute: error naming the line",
            f => Score(f, f.WriteText("nox.xml", OddImageScope.Replace("<Vertex X=\"100\" Y=\"100\"/>", "<Vertex Y=\"100\"/>", StringComparison.Ordinal)), Expect.Error, "line"));
        yield return new("asap-malformed", "the CAMELYON ASAP XML cut mid-element: error",
            f => Score(f, f.Derive(CamelyonXml, "node.xml", b => b[..(b.Length / 3)]), Expect.Error));
        yield return new("asap-unknown-group", "the CAMELYON ASAP XML scored without a label map: no label ('Tumor') maps to a BACH class, error suggesting --label-map",
            f => Score(f, f.Derive(CamelyonXml, "node.xml", b => b), Expect.Error, "--label-map"));
        yield return new("geojson-malformed", "GeoJSON cut mid-object: 'not valid JSON'",
            f => Score(f, f.WriteText("cut.geojson", OddGeoJson[..(OddGeoJson.Length / 2)]), Expect.Error, "JSON"));
        yield return new("geojson-wrong-types", "GeoJSON whose coordinates are strings and numbers in the wrong places: error",
            f => Score(f, f.WriteText("types.geojson", """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"classification":{"name":"Benign"}},"geometry":{"type":"Polygon","coordinates":[["a","b"],[1,2]]}}]}"""), Expect.Error));
        yield return new("geojson-degenerate-polygons", "GeoJSON with a 2-vertex ring, a bow tie, a polygon outside the slide, an unknown label and a null geometry: scored; each is a warning",
            f => Score(f, f.WriteText("odd.geojson", OddGeoJson), Expect.Success,
                warnings: ["a polygon needs 3: skipped", "crosses itself", "lies entirely outside", "unknown label 'Stroma?'"]));
        yield return new("annotation-binary-garbage", "PNG bytes named .xml: error 'not an annotation file'",
            f => Score(f, f.Derive(NormalPng, "image.xml", b => b), Expect.Error));
        yield return new("annotation-empty-file", "a 0-byte annotation file: 'empty file'",
            f => Score(f, f.Write("empty.xml", []), Expect.Error, "empty"));

        // ---- Masks of the wrong size or kind -----------------------------------------------------------------
        yield return new("mask-wrong-aspect", "score with a truth label mask of another shape than the prediction, and patches --labels with a mask of the wrong shape: errors",
            f =>
            {
                string prediction = Prediction(f);
                string mask = f.File("wrong.png");
                ImageIO.SaveGray(mask, new byte[100 * 17], 100, 17);
                return [new(["score", prediction, mask, "--json"], Expect.Error),
                    new(["patches", TestPaths.CmuSmall, "-o", "{out}/patches", "--size", "512", "--level", "0", "--labels", mask], Expect.Error, null, "patches")];
            });
        yield return new("mask-colour-and-truncated", "score with an RGB truth mask and with a truncated prediction PNG: errors",
            f =>
            {
                string prediction = Prediction(f);
                string truncated = f.Derive(Path.Combine(prediction, "bach.png"), "cut/bach.png", b => b[..(b.Length / 2)]);
                File.Copy(Path.Combine(prediction, MapGeometry.FileName), f.File("cut/" + MapGeometry.FileName));
                return [new(["score", prediction, NormalPng, "--json"], Expect.Error, "single-channel"),
                    new(["score", f.File("cut"), Bach10Xml, "--json"], Expect.Error)];
            });
        yield return new("geometry-json-malformed", "a prediction folder whose geometry.json is cut in half: error naming geometry.json",
            f =>
            {
                string prediction = Prediction(f);
                string geometry = Path.Combine(prediction, MapGeometry.FileName);
                File.WriteAllBytes(geometry, File.ReadAllBytes(geometry)[..20]);
                return [new(["score", prediction, Bach10Xml, "--json"], Expect.Error, "geometry")];
            });

        // ---- Datasets -------------------------------------------------------------------------------------------
        yield return new("dataset-empty-class-folder", "class folders Normal (6 images), Benign (6 images) and an empty InSitu: listed, the empty folder noted as a problem; the split works on the two classes",
            f =>
            {
                string root = Classes(f, ("Normal", 6), ("Benign", 6), ("InSitu", 0));
                return [.. DatasetRuns(root, Expect.Success, Expect.Success), new(["dataset", root], Expect.Success, StdOutContains: ["InSitu/: no image inside"])];
            });
        yield return new("dataset-one-class", "one class folder only: nothing to tell apart, error",
            f => DatasetRuns(Classes(f, ("Normal", 6)), Expect.Error, Expect.Error, "class"));
        yield return new("dataset-only-non-image-files", "class folders holding only .txt and .csv files: no labelled image, error",
            f =>
            {
                string root = f.File("ds");
                foreach (string c in new[] { "Normal", "Benign" })
                {
                    f.WriteText($"ds/{c}/readme.txt", "notes");
                    f.WriteText($"ds/{c}/stats.json", "{}");
                }

                return DatasetRuns(root, Expect.Error, Expect.Error);
            });
        yield return new("dataset-empty-folder", "an empty folder: error",
            f =>
            {
                string root = f.File("ds");
                Directory.CreateDirectory(root);
                return DatasetRuns(root, Expect.Error, Expect.Error);
            });
        yield return new("dataset-duplicate-files", "Benign holds byte-identical copies of Normal's images: dataset lists it; leakcheck finds the exact duplicates across folds (exit 1, leak report)",
            f =>
            {
                string root = Classes(f, ("Normal", 8), ("Benign", 0));
                foreach (string file in Directory.GetFiles(Path.Combine(root, "Normal")))
                {
                    File.Copy(file, Path.Combine(root, "Benign", "copy-" + Path.GetFileName(file)));
                }

                return DatasetRuns(root, Expect.Success, Expect.Leak);
            });
        yield return new("dataset-truncated-and-bomb-images", "class folders where one image is cut to 40 bytes (header intact) and one declares 2^31-1 x 2^31-1: the rest is used; the bomb is listed as unreadable from its header, the truncated one when decoded (--verify, leakcheck)",
            f =>
            {
                string root = Classes(f, ("Normal", 6), ("Benign", 6));
                string victim = Directory.GetFiles(Path.Combine(root, "Normal"))[0];
                File.WriteAllBytes(victim, File.ReadAllBytes(victim)[..40]);
                string bomb = Directory.GetFiles(Path.Combine(root, "Benign"))[0];
                File.WriteAllBytes(bomb, PatchPngSize(File.ReadAllBytes(bomb), int.MaxValue, int.MaxValue));
                return [.. DatasetRuns(root, Expect.Success, Expect.Success),
                    // Header sizes alone already show the bomb; decoding (--verify) also finds the truncated file.
                    new(["dataset", root, "--json"], Expect.Success, StdOutContains: ["decompression bomb"]),
                    new(["dataset", root, "--verify", "--json"], Expect.Success, StdOutContains: ["not a readable image"])];
            });
        yield return new("csv-wrong-field-count", "a manifest whose third line has one field: error with the line number",
            f => DatasetRuns(Manifest(f, "path,label\n{0},Normal\n{1}\n{2},Benign\n"), Expect.Error, Expect.Error, "line 3"));
        yield return new("csv-unterminated-quote", "a manifest with an opening quote that never closes: error with the line number",
            f => DatasetRuns(Manifest(f, "path,label\n{0},Normal\n\"{1},Benign\n{2},Benign\n"), Expect.Error, Expect.Error, "line"));
        yield return new("csv-empty-label", "a manifest with an empty label: error with the line number",
            f => DatasetRuns(Manifest(f, "path,label\n{0},Normal\n{1},\n{2},Benign\n"), Expect.Error, Expect.Error, "line 3"));
        yield return new("csv-missing-images", "a manifest whose rows name files that do not exist: nothing labelled, error",
            f => DatasetRuns(Manifest(f, "path,label\nnope1.png,Normal\nnope2.png,Benign\n"), Expect.Error, Expect.Error));
        yield return new("csv-binary-garbage", "PNG bytes named manifest.csv: error",
            f => DatasetRuns(f.Derive(NormalPng, "manifest.csv", b => b), Expect.Error, Expect.Error));
        yield return new("csv-header-only", "a manifest with only its header: nothing labelled, error",
            f => DatasetRuns(f.WriteText("manifest.csv", "path,label,group\n"), Expect.Error, Expect.Error));
    }

    private static string Locked(string path)
    {
        File.SetUnixFileMode(path, UnixFileMode.None);
        return path;
    }

    // ---- helpers: runs --------------------------------------------------------------------------------------------

    private static IReadOnlyList<CliRun> Score(CaseFolder f, string truth, Expect expect, string? contains = null, string[]? warnings = null) =>
        [new(["score", Prediction(f), truth, "--json"], expect, contains, StdOutContains: warnings), new(["score", Prediction(f), truth], expect, contains)];

    /// <summary>
    /// A slide output folder (bach.png + geometry.json) over BACH slide A10's annotated area, all Normal but one block of
    /// <paramref name="code"/>; <paramref name="level0Size"/> is the side the map covers in level-0 pixels.
    /// </summary>
    internal static string Prediction(CaseFolder f, int level0Size = 60000, byte code = 3)
    {
        string dir = f.File(level0Size == 60000 && code == 3 ? "prediction" : $"prediction-{level0Size}-{code}");
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir);
            const int size = 200;
            var bach = new byte[size * size];
            for (int y = 60; y < 120; y++)
            {
                bach.AsSpan(y * size + 50, 70).Fill(code);
            }

            ImageIO.SaveGray(Path.Combine(dir, "bach.png"), bach, size, size);
            new MapGeometry(0, 0, level0Size, level0Size, size, size, BachClasses.Names).Save(Path.Combine(dir, MapGeometry.FileName));
        }

        return dir;
    }

    private static IReadOnlyList<CliRun> DatasetRuns(string path, Expect dataset, Expect leakcheck, string? contains = null) =>
        [new(["dataset", path, "--json"], dataset, contains), new(["dataset", path], dataset, contains),
            new(["leakcheck", path, "--folds", "2", "--save-split", "{out}/split.json"], leakcheck, contains, leakcheck == Expect.Success ? "split.json" : null)];

    /// <summary>IDC patches (of different patients) copied under neutral names into class folders.</summary>
    private static string Classes(CaseFolder f, params (string Name, int Count)[] classes)
    {
        string root = f.File("ds");
        var sources = IdcPatches();
        int next = 0;
        foreach (var (name, count) in classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < count; i++)
            {
                File.Copy(sources[next++], Path.Combine(root, name, $"{name.ToLowerInvariant()}{i}.png"));
            }
        }

        return root;
    }

    /// <summary>A manifest over three real patches ({0} {1} {2}) beside it.</summary>
    private static string Manifest(CaseFolder f, string template)
    {
        var sources = IdcPatches();
        for (int i = 0; i < 3; i++)
        {
            File.Copy(sources[i], f.File($"img{i}.png"));
        }

        return f.WriteText("manifest.csv", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "img0.png", "img1.png", "img2.png"));
    }

    /// <summary>One 50 x 50 IDC patch from each of the first patients (sorted, so the same every run).</summary>
    private static string[] IdcPatches() => Directory.GetDirectories(TestPaths.Shared("idc")).Order(StringComparer.Ordinal)
        .Select(d => Directory.GetFiles(Path.Combine(d, "0")).Order(StringComparer.Ordinal).First()).Take(24).ToArray();

    // ---- helpers: byte surgery ------------------------------------------------------------------------------------

    private static TiffLayout Layout(byte[] b) => TiffLayout.Read(b);

    private static byte[] MutateTile(byte[] b, int directory, int tile, SpanAction mutate)
    {
        var d = Layout(b).Directories[directory];
        mutate(b.AsSpan((int)d.DataOffsets[tile], (int)d.DataByteCounts[tile]));
        return b;
    }

    private delegate void SpanAction(Span<byte> span);

    /// <summary>Flips one bit in every 97th byte of the entropy-coded data (after the SOS header), leaving markers be.</summary>
    private static void FlipEntropyBits(Span<byte> tile)
    {
        int sos = tile.IndexOf([(byte)0xFF, (byte)0xDA]);
        Assert.True(sos > 0, "tile has no SOS marker");
        int start = sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(tile[(sos + 2)..]);
        for (int i = start + 13; i < tile.Length - 2; i += 97)
        {
            if (tile[i] != 0xFF && tile[i - 1] != 0xFF && (tile[i] ^ 0x10) != 0xFF)
            {
                tile[i] ^= 0x10;
            }
        }
    }

    /// <summary>Overwrites a JPEG marker (e.g. SOF0 0xC0) with a reserved one so the frame header is gone.</summary>
    private static void DestroyMarker(Span<byte> tile, byte marker)
    {
        int at = tile.IndexOf([(byte)0xFF, marker]);
        Assert.True(at >= 0, $"tile has no FF{marker:X2} marker");
        tile[at + 1] = 0x01;
    }

    private static byte[] PatchTileEntry(byte[] b, int directory, int tile, long? offset, long? byteCount)
    {
        var d = Layout(b).Directories[directory];
        if (offset is { } o)
        {
            TiffLayout.WriteU32(b, TiffLayout.ValueOffset(b, d.Find(TiffLayout.TagTileOffsets)!, tile), (uint)o);
        }

        if (byteCount is { } c)
        {
            TiffLayout.WriteU32(b, TiffLayout.ValueOffset(b, d.Find(TiffLayout.TagTileByteCounts)!, tile), (uint)c);
        }

        return b;
    }

    /// <summary>Declares a directory's ImageWidth and ImageLength as LONG values.</summary>
    private static byte[] PatchDimensions(byte[] b, int directory, int width, int height)
    {
        var d = Layout(b).Directories[directory];
        foreach (var (tag, value) in new[] { (TiffLayout.TagImageWidth, width), (TiffLayout.TagImageLength, height) })
        {
            var e = d.Find(tag)!;
            TiffLayout.WriteU16(b, e.EntryOffset + 2, 4);
            TiffLayout.WriteU32(b, e.EntryOffset + 4, 1);
            TiffLayout.WriteU32(b, e.ValueFieldOffset, (uint)value);
        }

        return b;
    }

    /// <summary>Sets a PNG's IHDR width and height and recomputes the chunk CRC, so only the size is a lie.</summary>
    internal static byte[] PatchPngSize(byte[] png, int width, int height)
    {
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    private static byte[] PatchJpegSize(byte[] jpeg, int width, int height)
    {
        int sof = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }

    private static byte[] NormalJpeg() => ImageIO.Encode(ImageIO.Load(NormalPng), ".jpg");

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            crc ^= x;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    // ---- hand-written annotation files --------------------------------------------------------------------------

    private const string BillionLaughs = """
        <?xml version="1.0"?>
        <!DOCTYPE Annotations [
          <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
          <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
          <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
          <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
          <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
          <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
        ]>
        <Annotations><Annotation><Regions><Region Text="&f;"><Vertices><Vertex X="1" Y="1"/></Vertices></Region></Regions></Annotation></Annotations>
        """;

    private const string OddImageScope = """
        <Annotations MicronsPerPixel="0.466667">
          <Annotation Id="1"><Regions>
            <Region Id="1" Text="Benign"><Vertices><Vertex X="100" Y="100"/><Vertex X="5000" Y="5000"/></Vertices></Region>
            <Region Id="2" Text="Invasive carcinoma"><Vertices><Vertex X="10000" Y="10000"/><Vertex X="30000" Y="30000"/><Vertex X="30000" Y="10000"/><Vertex X="10000" Y="30000"/></Vertices></Region>
            <Region Id="3" Text="In situ"><Vertices><Vertex X="9000000" Y="9000000"/><Vertex X="9100000" Y="9000000"/><Vertex X="9100000" Y="9100000"/></Vertices></Region>
            <Region Id="4" Text="Benign"><Vertices><Vertex X="NaN" Y="1"/><Vertex X="1e308" Y="-1e308"/><Vertex X="Infinity" Y="5"/></Vertices></Region>
            <Region Id="5" Text="Normal"><Vertices><Vertex X="100" Y="100"/><Vertex X="100" Y="100"/><Vertex X="100" Y="100"/></Vertices></Region>
          </Regions></Annotation>
        </Annotations>
        """;

    private const string OddGeoJson = """
        {"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"classification":{"name":"Benign"}},"geometry":{"type":"Polygon","coordinates":[[[100,100],[5000,5000]]]}},
          {"type":"Feature","properties":{"classification":{"name":"Invasive"}},"geometry":{"type":"Polygon","coordinates":[[[10000,10000],[30000,30000],[30000,10000],[10000,30000],[10000,10000]]]}},
          {"type":"Feature","properties":{"classification":{"name":"In situ"}},"geometry":{"type":"Polygon","coordinates":[[[-9000000,-9000000],[-8000000,-9000000],[-8000000,-8000000],[-9000000,-9000000]]]}},
          {"type":"Feature","properties":{"classification":{"name":"Stroma?"}},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,1],[20000,1],[20000,20000],[1,1]]]]}},
          {"type":"Feature","properties":{},"geometry":null}
        ]}
        """;
}
