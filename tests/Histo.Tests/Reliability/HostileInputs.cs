using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Histo.Maps;
using Histo.Tests.Inference;
using static TorchSharp.torch;

namespace Histo.Tests.Reliability;

/// <summary>
/// Hostile inputs, round 2 (issue 17): special files, absurd declared sizes, poisoned models and cards, terminal and
/// CSV injection, deep nesting, the encodings real tools write. Every input is derived at test time, like
/// <see cref="CorruptInputs"/>, and run through the CLI by the same runner.
/// </summary>
internal static class HostileInputs
{
    private const string Esc = "\u001b";

    /// <summary>Peak resident memory a refusal of an absurd input may cost (the CLI alone takes about 150 MB).</summary>
    private const long BoundedMegabytes = 1200;

    private static string NormalPng => TestPaths.Shared("microscopy", "bach", "Normal", "normal.png");

    private static string Bach10Xml => TestPaths.Shared("annotations", "bach", "A10.xml");

    private static string CamelyonXml => TestPaths.Shared("annotations", "camelyon17", "patient_004_node_4.xml");

    public static IEnumerable<CorruptCase> Catalogue()
    {
        // ---- 1. Special files: only regular files (after following links) are opened ----------------------------
        yield return new("hostile-fifo-as-slide", "a FIFO named x.svs and one named x.png (also as the stain target): every command fails at once with 'is a FIFO', nothing blocks",
            f => [.. CorruptInputs.SlideRuns(Fifo(f, "x.svs"), Expect.Error, Expect.Error, "FIFO"),
                .. CorruptInputs.SlideRuns(Fifo(f, "x.png"), Expect.Error, Expect.Error, "FIFO")]);
        yield return new("hostile-link-to-device", "dev.tif, a symbolic link to /dev/zero (a stream without end): refused as 'a device' after following the link",
            f =>
            {
                string link = f.File("dev.tif");
                File.CreateSymbolicLink(link, "/dev/zero");
                return CorruptInputs.SlideRuns(link, Expect.Error, Expect.Error, "device");
            });
        yield return new("hostile-fifo-in-dataset-folder", "class folders with a FIFO named fifo.png among the images: dataset and leakcheck list it as skipped unopened; predict over the folder skips it with a warning; patches over the folder (all or nothing) fails naming it",
            f =>
            {
                string root = Classes(f, ("Normal", 6), ("Benign", 6));
                Fifo(f, "ds/Normal/fifo.png");
                return [new(["dataset", root], Expect.Success, StdOutContains: ["fifo.png: a FIFO (named pipe), not a regular file: skipped unopened"]),
                    new(["dataset", root, "--json"], Expect.Success, StdOutContains: ["not_regular_file"]),
                    new(["leakcheck", root, "--folds", "2", "--save-split", "{out}/split.json"], Expect.Success, Output: "split.json"),
                    new(["predict", SlideTestModel.Directory, root, "--csv", "-o", "{out}/p.csv"], Expect.Success, Output: "p.csv") { StdErrContains = ["fifo.png: a FIFO (named pipe), not a regular file: skipped"] },
                    new(["patches", root, "-o", "{out}/patches", "--size", "32", "--level", "0"], Expect.Error, "fifo.png is a FIFO")];
            });
        yield return new("hostile-fifo-as-manifest-annotation-label-map", "a FIFO as manifest.csv (dataset, leakcheck), as the truth annotation file and as the --label-map file (score): each an error naming the FIFO",
            f =>
            {
                string manifest = Fifo(f, "manifest.csv");
                return [new(["dataset", manifest], Expect.Error, "FIFO"),
                    new(["leakcheck", manifest, "--folds", "2"], Expect.Error, "FIFO"),
                    new(["score", Prediction(f), Fifo(f, "truth.xml"), "--json"], Expect.Error, "FIFO"),
                    new(["score", Prediction(f), Bach10Xml, "--label-map", Fifo(f, "map.json"), "--json"], Expect.Error, "FIFO")];
            });

        // ---- 2. Absurd declared sizes: work and memory bounded ----------------------------------------------------
        yield return new("hostile-tiff-declares-100000-square", "a valid single-level tiled TIFF declaring 100,000 x 100,000 px in 60 KB (every tile the same deflated one): info and region work; tissue and patches refuse at once (the mask would need all 10^10 pixels of the only level); thumbnail refuses as before",
            f => AbsurdTiffRuns(f.Write("huge.tif", DeclaredTiff(100_000, 4096))));
        yield return new("hostile-tiff-declares-1000000-square", "the same TIFF declaring 1,000,000 x 1,000,000 px (0.5 MB): the same outcomes, at once and in bounded memory",
            f => AbsurdTiffRuns(f.Write("huge.tif", DeclaredTiff(1_000_000, 4096))));
        yield return new("hostile-sparse-3gb-png", "a 3 GB sparse file of zeros named huge.png: refused by its size before reading (info, thumbnail, as stain target); dataset lists it unreadable; predict over it fails; none allocates it",
            f =>
            {
                string huge = Sparse(f, "huge.png", 3L << 30);
                string root = Classes(f, ("Normal", 4), ("Benign", 4));
                Sparse(f, "ds/Normal/huge.png", 3L << 30);
                return [new(["info", huge], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["thumbnail", huge, "-o", "{out}/t.png"], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["normalize", NormalPng, "--target", huge, "-o", "{out}/n.png"], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["dataset", root, "--verify"], Expect.Success, StdOutContains: ["huge.png"]) { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["leakcheck", root, "--folds", "2"], Expect.Success) { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["predict", SlideTestModel.Directory, huge], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes }];
            });
        yield return new("hostile-zeros-as-manifest", "a 200 MB sparse file of zeros and a 3 GB one posing as manifest.csv: the first refused as binary after 8 KB, the second by its size",
            f =>
            {
                string zeros = Sparse(f, "a/manifest.csv", 200L << 20);
                string huge = Sparse(f, "b/manifest.csv", 3L << 30);
                return [new(["dataset", zeros], Expect.Error, "binary") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["leakcheck", zeros, "--folds", "2"], Expect.Error, "binary") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["dataset", huge], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes }];
            });
        yield return new("hostile-geometry-declares-huge-map", "a prediction folder whose geometry.json declares a 2,147,483,647 x 2,147,483,647 map: refused naming geometry.json (no overflow, no allocation)",
            f =>
            {
                string prediction = Prediction(f);
                string geometry = Path.Combine(prediction, MapGeometry.FileName);
                var json = JsonNode.Parse(File.ReadAllText(geometry))!;
                json["width"] = int.MaxValue;
                json["height"] = int.MaxValue;
                File.WriteAllText(geometry, json.ToJsonString());
                return [new(["score", prediction, Bach10Xml, "--json"], Expect.Error, "geometry.json") { MaxPeakRssMegabytes = BoundedMegabytes }];
            });

        // ---- 5. Outputs that cannot be written: one line a user can act on ------------------------------------
        yield return new("hostile-output-is-a-directory", "-o naming an existing directory (thumbnail.png/, p.csv/, split.json/): 'is a directory; give a file name'",
            f =>
            {
                string png = f.File("taken/thumb.png"), csv = f.File("taken/p.csv"), json = f.File("taken/split.json");
                foreach (string d in new[] { png, csv, json })
                {
                    Directory.CreateDirectory(d);
                }

                return [new(["thumbnail", TestPaths.TinySvs, "-o", png], Expect.Error, "is a directory"),
                    new(["tissue", TestPaths.TinySvs, "-o", png], Expect.Error, "is a directory"),
                    new(["predict", SlideTestModel.Directory, NormalPng, "-o", csv], Expect.Error, "is a directory"),
                    new(["leakcheck", Classes(f, ("Normal", 4), ("Benign", 4)), "--folds", "2", "--save-split", json], Expect.Error, "is a directory")];
            });
        yield return new("hostile-output-folder-not-writable", "outputs into a folder the user may not write (mode 555, run as uid 65534): 'cannot write there (permission denied ...)', no temporary file left",
            f =>
            {
                string ro = f.File("readonly");
                Directory.CreateDirectory(ro);
                string slide = f.Derive(TestPaths.TinySvs, "small.svs", b => b);
                File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                return [new(["thumbnail", slide, "-o", Path.Combine(ro, "t.png")], Expect.Error, "permission denied"),
                    new(["region", slide, "--x", "0", "--y", "0", "--width", "64", "--height", "64", "-o", Path.Combine(ro, "r.png")], Expect.Error, "permission denied"),
                    new(["patches", slide, "-o", Path.Combine(ro, "patches"), "--size", "256", "--level", "0"], Expect.Error, "permission denied")];
            },
            Unprivileged: true);

        // ---- 4. Terminal and CSV injection ----------------------------------------------------------------------
        yield return new("hostile-escape-sequences-in-labels", "a GeoJSON class name and dataset class folders carrying ESC sequences (clear screen, retitle window) and a formula: shown with \\u001b visible, never raw; JSON keeps them escaped",
            f =>
            {
                string evil = Esc + "[2J" + Esc + "]0;pwned\u0007Stroma";
                string geojson = f.WriteText("evil.geojson", $$$"""
                    {"type":"FeatureCollection","features":[
                      {"type":"Feature","properties":{"classification":{"name":"Benign"}},"geometry":{"type":"Polygon","coordinates":[[[1000,1000],[20000,1000],[20000,20000],[1000,20000],[1000,1000]]]}},
                      {"type":"Feature","properties":{"classification":{"name":"{{{JsonEscape(evil)}}}"}},"geometry":{"type":"Polygon","coordinates":[[[30000,30000],[40000,30000],[40000,40000],[30000,30000]]]}}
                    ]}
                    """);
                string root = Classes(f, ("Normal", 4), ("Benign", 4));
                Directory.Move(Path.Combine(root, "Benign"), Path.Combine(root, Esc + "[31mBenign" + Esc + "[0m"));
                string[] raw = [Esc];
                return [new(["score", Prediction(f), geojson], Expect.Success) { StdErrContains = ["\\u001b[2J\\u001b]0;pwned\\u0007Stroma"], Forbidden = raw },
                    new(["score", Prediction(f), geojson, "--json"], Expect.Success) { Forbidden = raw },
                    new(["dataset", root], Expect.Success, StdOutContains: ["\\u001b[31mBenign"]) { Forbidden = raw },
                    new(["leakcheck", root, "--folds", "2"], Expect.Success) { Forbidden = raw }];
            });
        yield return new("hostile-bidi-and-escape-in-error", "a slide whose file name holds ESC and a right-to-left override: the error line shows both as \\u escapes",
            f =>
            {
                string path = f.WriteText("evil" + Esc + "[2J\u202Egnp.svs", "not a slide");
                return [new(["info", path], Expect.Error, "\\u001b[2J\\u202egnp.svs") { Forbidden = [Esc, "\u202E"] }];
            });

        // ---- 7. Encodings real tools write ------------------------------------------------------------------------
        yield return new("hostile-bom-geojson-qupath", "a QuPath-style GeoJSON export (FeatureCollection, classification name and colour) with a UTF-8 byte-order mark: read and scored",
            f => [new(["score", Prediction(f), f.Write("qupath.geojson", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(QuPathGeoJson)]), "--json"], Expect.Success, StdOutContains: ["\"truth_kind\": \"annotations\""])]);
        yield return new("hostile-utf16-imagescope-xml", "BACH's A10.xml (Aperio ImageScope) saved as UTF-16 LE with a byte-order mark and encoding=\"utf-16\", as Windows tools write it: scored like the UTF-8 file",
            f =>
            {
                string xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n" + File.ReadAllText(Bach10Xml);
                string path = f.Write("A10-utf16.xml", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(xml)]);
                return [new(["score", Prediction(f), path, "--json"], Expect.Success, StdOutContains: ["\"truth_kind\": \"annotations\""])];
            });
        yield return new("hostile-utf16-and-bom-asap-xml", "the CAMELYON ASAP XML as UTF-16 BE with a mark, and as UTF-8 with a mark: both scored with --label-map Tumor=Invasive",
            f =>
            {
                string text = File.ReadAllText(CamelyonXml).Replace("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"utf-16\"?>", StringComparison.Ordinal);
                string be = f.Write("asap-utf16be.xml", [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(text)]);
                string bom = f.Write("asap-bom.xml", [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(CamelyonXml)]);
                return [new(["score", Prediction(f, 100_000), be, "--label-map", "Tumor=Invasive", "--json"], Expect.Success),
                    new(["score", Prediction(f, 100_000), bom, "--label-map", "Tumor=Invasive", "--json"], Expect.Success)];
            });
        yield return new("hostile-utf16-manifest-and-bom-label-map", "a manifest saved as UTF-16 LE with a mark (Excel's Unicode CSV) and a label map JSON with a UTF-8 mark: both read",
            f =>
            {
                string manifest = Manifest(f, "path,label\n{0},Normal\n{1},Benign\n{2},Benign\n");
                File.WriteAllBytes(manifest, [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(File.ReadAllText(manifest))]);
                string map = f.Write("map.json", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"Tumor": "Invasive"}""")]);
                return [new(["dataset", manifest, "--json"], Expect.Success, StdOutContains: ["\"images\": 3"]),
                    new(["score", Prediction(f, 100_000), CamelyonXml, "--label-map", map, "--json"], Expect.Success)];
            });

        // ---- 6. Nesting caps ---------------------------------------------------------------------------------------
        yield return new("hostile-xml-nested-100000-deep", "an ASAP XML and an ImageScope XML with 100,000 nested elements: refused at depth 64 ('nested more than 64 deep'), as GeoJSON is",
            f =>
            {
                string deep = string.Concat(Enumerable.Repeat("<Group>", 100_000)) + string.Concat(Enumerable.Repeat("</Group>", 100_000));
                string asap = f.WriteText("deep-asap.xml", $"<?xml version=\"1.0\"?><ASAP_Annotations><Annotations>{deep}</Annotations></ASAP_Annotations>");
                string aperio = f.WriteText("deep-aperio.xml", $"<Annotations><Annotation Id=\"1\"><Regions>{deep}</Regions></Annotation></Annotations>");
                string geojson = f.WriteText("deep.geojson", "{\"type\":\"FeatureCollection\",\"features\":" + new string('[', 100_000) + new string(']', 100_000) + "}");
                return [new(["score", Prediction(f), asap, "--json"], Expect.Error, "nested more than 64 deep"),
                    new(["score", Prediction(f), aperio, "--json"], Expect.Error, "nested more than 64 deep"),
                    new(["score", Prediction(f), geojson, "--json"], Expect.Error, "depth")];
            });

        // ---- 3. Poisoned models: load-time validation of every tensor and of the card -----------------------------
        yield return new("model-weights-nan", "the test model with one NaN in conv1.weight: predict, embed, evaluate and slide refuse at load, naming the tensor",
            f => ModelRuns(Model(f, weights: n => Parameter(n, "conv1.weight").view(-1).narrow(0, 0, 1).fill_(float.NaN)), "'conv1.weight' holds 1 NaN or infinite"));
        yield return new("model-weights-infinity", "the test model with +Inf in the head's bias: refused at load",
            f => ModelRuns(Model(f, weights: n => Parameter(n, "fc.bias").fill_(float.PositiveInfinity)), "'fc.bias' holds 4 NaN or infinite"));
        yield return new("model-weights-overflow", "finite head weights of 1e37 (load-time checks pass): the logits overflow to infinity and NaN at run time, which is an error, never an output (predict fails, slide records the slide failed); embed, before the head, works",
            f => ModelRuns(Model(f, weights: n => Parameter(n, "fc.weight").fill_(1e37f)), "non-finite", load: false));
        yield return new("model-weights-special-and-huge", "weights.bin as a FIFO, as a 3 GB sparse file, as 45 MB of zeros, and model.json as a FIFO: each an error naming the file",
            f =>
            {
                string fifo = Model(f, "fifo");
                File.Delete(Path.Combine(fifo, "weights.bin"));
                Fifo(f, "fifo/weights.bin");
                string huge = Model(f, "huge");
                File.Delete(Path.Combine(huge, "weights.bin"));
                Sparse(f, "huge/weights.bin", 3L << 30);
                string zeros = Model(f, "zeros");
                File.WriteAllBytes(Path.Combine(zeros, "weights.bin"), new byte[45 << 20]);
                string card = Model(f, "card");
                File.Delete(Path.Combine(card, "model.json"));
                Fifo(f, "card/model.json");
                return [new(["predict", fifo, NormalPng], Expect.Error, "FIFO"),
                    new(["predict", huge, NormalPng], Expect.Error, "too large") { MaxPeakRssMegabytes = BoundedMegabytes },
                    new(["predict", zeros, NormalPng], Expect.Error, "cannot load the weights"),
                    new(["predict", card, NormalPng], Expect.Error, "FIFO")];
            });
        foreach (var (name, change, message) in AbsurdCards())
        {
            yield return new($"model-card-{name}", $"a model card with {name.Replace('-', ' ')}: predict and slide fail at load with 'invalid model card: {message}...'",
                f =>
                {
                    string model = Model(f, card: change);
                    return [new(["predict", model, NormalPng], Expect.Error, message) { MaxPeakRssMegabytes = BoundedMegabytes },
                        new(["slide", model, TestPaths.TinySvs, "-o", "{out}/slides", "--threads", "2"], Expect.Error, message) { MaxPeakRssMegabytes = BoundedMegabytes }];
                });
        }

        yield return new("model-card-formula-class-names", "a model whose classes are '=1+1', '+SUM(A1)', '-2' and '@cmd': predict --csv writes every class cell neutralised (\"'=1+1\"), the table shows them",
            f =>
            {
                string model = Model(f, card: c => c["classes"] = new JsonArray("=1+1", "+SUM(A1)", "-2", "@cmd"));
                string[] formulas = [",=1+1", ",+SUM(A1)", ",-2\n", ",@cmd"];
                return [new(["predict", model, NormalPng, "--csv"], Expect.Success, StdOutContains: ["\"'"]) { Forbidden = formulas },
                    new(["predict", model, NormalPng, "--csv", "-o", "{out}/p.csv"], Expect.Success, Output: "p.csv")];
            });
    }

    /// <summary>Card rewrites, each with the text its error must contain.</summary>
    private static IEnumerable<(string Name, Action<JsonObject> Change, string Message)> AbsurdCards()
    {
        yield return ("null-classes", c => c["classes"] = null, "at least two classes");
        yield return ("duplicate-classes", c => c["classes"] = new JsonArray("Normal", "Benign", "Normal", "Invasive"), "listed twice");
        yield return ("empty-class-name", c => c["classes"] = new JsonArray("Normal", " ", "InSitu", "Invasive"), "empty name");
        yield return ("escape-in-class-name", c => c["classes"] = new JsonArray("Normal", Esc + "[2JBenign", "InSitu", "Invasive"), "control characters");
        yield return ("bach-code-7", c => c["bach_codes"] = new JsonArray(0, 1, 2, 7), "bach_codes[3] is 7");
        yield return ("three-bach-codes", c => c["bach_codes"] = new JsonArray(0, 1, 2), "3 bach_codes for 4 classes");
        yield return ("input-size-2000000000", c => c["input_size_pixels"] = 2_000_000_000, "input_size_pixels is 2000000000");
        yield return ("patch-size-1000000", c => c["patch_size_pixels"] = 1_000_000, "patch_size_pixels is 1000000");
        yield return ("negative-mpp", c => c["mpp"] = -4.0, "mpp is -4");
        yield return ("mpp-1e9", c => c["mpp"] = 1e9, "mpp is 1000000000");
        yield return ("zero-crop-stride", c => c["crop_stride_pixels"] = 0, "crop_stride_pixels is 0");
        yield return ("unknown-stain-method", c => c["stain_normalization"] = "magic", "stain_normalization is 'magic'");
        yield return ("decreasing-thresholds", c => c["thresholds"] = new JsonArray(0, 0.7, 0.35, 0.75), "thresholds [0, 0.7, 0.35, 0.75]");
        yield return ("two-thresholds", c => c["thresholds"] = new JsonArray(0, 0.5), "must be 4 values");
    }

    // ---- runs -------------------------------------------------------------------------------------------------

    private static IReadOnlyList<CliRun> AbsurdTiffRuns(string tiff) =>
        [new(["info", tiff, "--json"], Expect.Success, StdOutContains: ["generic-tiff"]),
            new(["region", tiff, "--x", "5000", "--y", "5000", "--width", "256", "--height", "256", "-o", "{out}/r.png"], Expect.Success, Output: "r.png"),
            new(["tissue", tiff, "-o", "{out}/m.png"], Expect.Error, "no pyramid level") { MaxPeakRssMegabytes = BoundedMegabytes },
            new(["patches", tiff, "-o", "{out}/patches", "--size", "256", "--level", "0"], Expect.Error, "no pyramid level") { MaxPeakRssMegabytes = BoundedMegabytes },
            new(["thumbnail", tiff, "-o", "{out}/t.png"], Expect.Error, "too large")];

    /// <summary>predict, embed, evaluate and slide on a broken model; <paramref name="load"/>: whether it fails at load (before any image).</summary>
    private static IReadOnlyList<CliRun> ModelRuns(string model, string message, bool load = true)
    {
        var runs = new List<CliRun>
        {
            new(["predict", model, NormalPng, "--json"], Expect.Error, message),
            // failing at load stops the run; failing at run time fails the slide, recorded as such in the cohort table
            new(["slide", model, TestPaths.CmuSmall, "-o", "{out}/slides", "--threads", "2"], load ? Expect.Error : Expect.FailedSlide, message),
        };
        if (load)
        {
            runs.Add(new(["evaluate", model, TestPaths.Shared("microscopy", "bach"), "--json"], Expect.Error, message));
            runs.Add(new(["embed", model, TestPaths.Shared("microscopy", "bach"), "-o", "{out}/f.npy"], Expect.Error, message));
        }
        else
        {
            // the overflow is in the head: features (before it) stay finite and embed works
            runs.Add(new(["embed", model, TestPaths.Shared("microscopy", "bach"), "-o", "{out}/f.npy"], Expect.Success, Output: "f.npy"));
        }

        return runs;
    }

    // ---- inputs -------------------------------------------------------------------------------------------------

    private static string Fifo(CaseFolder f, string name)
    {
        string path = f.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.True(mkfifo.ExitCode == 0, "mkfifo failed");
        return path;
    }

    /// <summary>A sparse file of zeros: <paramref name="length"/> bytes that take no disk space.</summary>
    private static string Sparse(CaseFolder f, string name, long length)
    {
        string path = f.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.CreateNew);
        stream.SetLength(length);
        return path;
    }

    /// <summary>
    /// A valid single-level tiled RGB TIFF of <paramref name="side"/> x <paramref name="side"/> pixels whose tiles all
    /// point at one deflate-compressed pink tile: a few hundred KB declaring up to 10^12 pixels.
    /// </summary>
    internal static byte[] DeclaredTiff(int side, int tile)
    {
        var raw = new byte[tile * tile * 3];
        for (int i = 0; i < raw.Length; i += 3)
        {
            (raw[i], raw[i + 1], raw[i + 2]) = ((byte)230, (byte)180, (byte)210);
        }

        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            z.Write(raw);
        }

        byte[] data = compressed.ToArray();
        long across = (side + tile - 1) / tile;
        int tiles = checked((int)(across * across));
        (int Tag, int Type, uint Value)[] entries =
        [
            (256, 4, (uint)side), (257, 4, (uint)side), (258, 3, 0), (259, 3, 8), (262, 3, 2), (277, 3, 3), (284, 3, 1),
            (322, 4, (uint)tile), (323, 4, (uint)tile), (324, 4, 0), (325, 4, 0),
        ];
        int ifd = 8, bitsAt = ifd + 2 + entries.Length * 12 + 4, offsetsAt = bitsAt + 8, countsAt = offsetsAt + 4 * tiles, dataAt = countsAt + 4 * tiles;
        var b = new byte[dataAt + data.Length];
        "II"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)ifd);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(ifd), (ushort)entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            var (tag, type, value) = entries[i];
            int at = ifd + 2 + i * 12;
            (uint count, uint field) = tag switch
            {
                258 => (3u, (uint)bitsAt),
                324 => ((uint)tiles, (uint)offsetsAt),
                325 => ((uint)tiles, (uint)countsAt),
                _ => (1u, value),
            };
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)tag);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at + 2), (ushort)type);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at + 4), count);
            if (type == 3 && count == 1)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at + 8), (ushort)field);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at + 8), field);
            }
        }

        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(bitsAt + 2 * i), 8);
        }

        for (int t = 0; t < tiles; t++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offsetsAt + 4 * t), (uint)dataAt);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(countsAt + 4 * t), (uint)data.Length);
        }

        data.CopyTo(b, dataAt);
        return b;
    }

    /// <summary>A private copy of the 4-class test model, its card and weights changed as asked.</summary>
    private static string Model(CaseFolder f, string name = "model", Action<JsonObject>? card = null, Action<Histo.Learning.Models.ResNet18Variant>? weights = null)
    {
        string dir = f.File(name);
        Directory.CreateDirectory(dir);
        foreach (string file in Directory.EnumerateFiles(SlideTestModel.Directory))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        if (weights is not null)
        {
            using var classifier = SlideTestModel.Load(dir);
            using (no_grad())
            {
                weights(classifier.Network);
            }

            Histo.Learning.Models.PatchClassifier.SaveWeights(classifier.Network, Path.Combine(dir, "weights.bin"));
        }

        if (card is not null)
        {
            string path = Path.Combine(dir, "model.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            card(json);
            File.WriteAllText(path, json.ToJsonString());
        }

        return dir;
    }

    private static Tensor Parameter(Histo.Learning.Models.ResNet18Variant network, string name) =>
        network.named_parameters().Single(p => p.name == name).parameter;

    private static string JsonEscape(string text) => System.Text.Json.JsonSerializer.Serialize(text)[1..^1];

    /// <summary>A slide output folder over BACH A10's annotated area with one Benign block (<see cref="CorruptInputs.Prediction"/>).</summary>
    private static string Prediction(CaseFolder f, int level0Size = 60000) => CorruptInputs.Prediction(f, level0Size, code: 1);

    /// <summary>IDC patches (of different patients) copied into class folders under ds/.</summary>
    private static string Classes(CaseFolder f, params (string Name, int Count)[] classes)
    {
        string root = f.File("ds");
        var sources = Directory.GetDirectories(TestPaths.Shared("idc")).Order(StringComparer.Ordinal)
            .Select(d => Directory.GetFiles(Path.Combine(d, "0")).Order(StringComparer.Ordinal).First()).Take(24).ToArray();
        int next = 0;
        foreach (var (name, count) in classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < count; i++)
            {
                File.Copy(sources[next++], Path.Combine(root, name, $"{name.ToLowerInvariant()}{i}.png"), overwrite: true);
            }
        }

        return root;
    }

    /// <summary>A manifest over three real patches ({0} {1} {2}) beside it.</summary>
    private static string Manifest(CaseFolder f, string template)
    {
        string root = Classes(f, ("m", 3));
        return f.WriteText("manifest.csv", string.Format(System.Globalization.CultureInfo.InvariantCulture, template,
            Path.GetRelativePath(f.Path, Path.Combine(root, "m", "m0.png")), Path.GetRelativePath(f.Path, Path.Combine(root, "m", "m1.png")),
            Path.GetRelativePath(f.Path, Path.Combine(root, "m", "m2.png"))));
    }

    /// <summary>A GeoJSON as QuPath's "Export objects as GeoJSON" writes it: a FeatureCollection with classification objects.</summary>
    private const string QuPathGeoJson = """
        {
          "type": "FeatureCollection",
          "features": [
            {
              "type": "Feature",
              "id": "5b9a7c1e-3c1f-4a0e-9d2b-1f0c5e6a7b8c",
              "geometry": { "type": "Polygon", "coordinates": [[[15000, 18000], [42000, 18000], [42000, 40000], [15000, 40000], [15000, 18000]]] },
              "properties": { "objectType": "annotation", "classification": { "name": "Benign", "color": [255, 200, 0] } }
            }
          ]
        }
        """;
}
