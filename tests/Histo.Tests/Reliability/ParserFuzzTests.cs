using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Histo.Annotations;
using Histo.Bach;
using Histo.Datasets;
using Histo.Learning;
using Histo.Learning.Models;
using Histo.Learning.Onnx;
using Histo.Maps;
using Xunit.Abstractions;

namespace Histo.Tests.Reliability;

/// <summary>
/// Property-based fuzzing (FsCheck) of the parsers that read user files: annotations (ImageScope XML, ASAP XML,
/// GeoJSON), CSV manifests and ONNX models. Inputs are real files mutated (truncated, bit-flipped, spliced with
/// syntax tokens) plus random bytes. The only allowed failure is the parser's typed exception; anything else
/// (IndexOutOfRange, NullReference, OutOfMemory, ...) or a parse slower than the per-input limit fails. Each property
/// runs a fixed number of inputs from a fixed seed, and stops early at a time cap so the suite stays bounded.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    private const ulong Seed = 0x48495354, Gamma = 0x9E3779B97F4A7C15; // fixed: the same inputs every run
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TimeCap = TimeSpan.FromSeconds(25);

    private static readonly Lazy<byte[][]> AnnotationSeeds = new(() =>
    [
        Head(TestPaths.Shared("annotations", "bach", "A10.xml"), 6000),
        Head(TestPaths.Shared("annotations", "camelyon17", "patient_004_node_4.xml"), 6000),
        Encoding.UTF8.GetBytes(SmallGeoJson),
    ]);

    private static readonly string[] AnnotationTokens =
    [
        "<", ">", "/>", "</Region>", "<Vertex X=\"1\" Y=\"2\"/>", "<Region Text=\"Benign\">", "\"", "'", "=", "NaN", "-1e309",
        "1e308", "Infinity", "<!DOCTYPE a [<!ENTITY x \"y\">]>", "&x;", "&amp;", "\0", "\uFFFF", "{", "}", "[", "]", ",", ":", "null",
        "\"coordinates\"", "\"type\":\"MultiPolygon\"", "\"features\":", "[[[0,0],[1,1]]]", "-0", "99999999999999999999", "\r\n",
    ];

    private static readonly Lazy<string> ManifestSeed = new(() =>
        File.ReadAllText(TestPaths.Shared("microscopy", "labels.csv")) + "\"quoted, with comma\",Benign,p1\n\"multi\nline\",Normal,\"g\"\"2\"\n");

    private static readonly string[] CsvTokens = ["\"", ",", "\n", "\r\n", "\r", "\"\"", ",,,", "\uFEFF", "path,label", "label,path,group", "\0", " "];

    private static readonly Lazy<byte[]> OnnxBytes = new(() => File.ReadAllBytes(ResNet18OnnxImporter.DefaultModelPath));

    [Fact]
    public void Annotation_parsers_fail_only_with_AnnotationFormatException() =>
        Fuzz("annotations", 400, random =>
        {
            var seeds = AnnotationSeeds.Value;
            return Mutate(seeds[random.Next(seeds.Length)], random, AnnotationTokens);
        }, ParseAndRasterizeAnnotations, typeof(AnnotationFormatException));

    [Fact]
    public void Csv_manifest_parser_fails_only_with_ManifestFormatException() =>
        Fuzz("manifest", 500, random => Mutate(Encoding.UTF8.GetBytes(ManifestSeed.Value), random, CsvTokens),
            bytes => CsvManifest.Parse(Encoding.UTF8.GetString(bytes), "fuzz.csv"), typeof(ManifestFormatException));

    [Fact]
    public void Onnx_reader_fails_only_with_HistoModelException_on_mutated_model_bytes() =>
        Fuzz("onnx", 200, random =>
        {
            byte[] model = OnnxBytes.Value;
            return random.Next(4) switch
            {
                // A truncation anywhere, or a prefix (the graph header and node list) with bit flips.
                0 => model[..random.Next(model.Length)],
                1 => FlipBits(model[..random.Next(1, 200_000)], random, random.Next(1, 30)),
                2 => FlipBits((byte[])model.Clone(), random, random.Next(1, 8), limit: 300_000),
                _ => RandomProtobuf(random),
            };
        }, bytes => OnnxModelReader.Read(bytes, "fuzz.onnx"), typeof(HistoModelException));

    /// <summary>
    /// Found by the annotation fuzzer: System.Text.Json quotes a bad literal with the text after it, line breaks
    /// included, so the error message ran over several lines. The message must stay one line.
    /// </summary>
    [Theory]
    [InlineData("geojson-bad-literal-before-line-break", "{\"type\":nfeatures\":[\n  {}]}")]
    [InlineData("geojson-truncated-false-literal", "{\"type\":\"FeatureCollection\",\"features\":[\n  {\"type\":\"Feature\",\"properties\":fals\r\n}]}")]
    public void Regression_json_error_quoting_a_line_break_stays_one_line(string name, string content)
    {
        var error = Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Parse(Encoding.UTF8.GetBytes(content), name));
        Assert.Contains('\n', error.InnerException!.Message); // the parser's own message does break the line
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    private static void ParseAndRasterizeAnnotations(byte[] bytes)
    {
        var set = AnnotationReader.Parse(bytes, "fuzz");
        // What is read must also be usable: rasterised onto a small map without throwing anything untyped.
        var geometry = new MapGeometry(0, 0, 100_000, 100_000, 64, 64, BachClasses.Names);
        AnnotationRasterizer.Rasterize(set.Classified, geometry);
    }

    private void Fuzz(string name, int count, Func<Random, byte[]> make, Action<byte[]> parse, Type allowed)
    {
        var clock = Stopwatch.StartNew();
        int run = 0, rejected = 0, accepted = 0;
        var property = Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), (int caseSeed) =>
        {
            if (clock.Elapsed > TimeCap)
            {
                return; // bounded in time as well as in count
            }

            run++;
            byte[] input = make(new Random(caseSeed));
            var task = Task.Run(() =>
            {
                try
                {
                    parse(input);
                    return (Exception?)null;
                }
                catch (Exception e)
                {
                    return e;
                }
            });
            if (!task.Wait(PerInputLimit))
            {
                throw new InvalidOperationException($"{name} case {caseSeed}: no result within {PerInputLimit.TotalSeconds} s ({input.Length} bytes): a hang");
            }

            switch (task.Result)
            {
                case null:
                    accepted++;
                    break;
                case { } e when allowed.IsInstanceOfType(e):
                    rejected++;
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    Assert.False(e.Message.TrimEnd().Contains('\n', StringComparison.Ordinal), $"{name} case {caseSeed}: a message of several lines: {e.Message}");
                    break;
                case { } e:
                    throw new InvalidOperationException($"{name} case {caseSeed} ({input.Length} bytes) threw {e.GetType().Name}, not {allowed.Name}: {e}");
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(count).WithReplay(Seed, Gamma), property);
        output.WriteLine($"{name}: {run} inputs in {clock.Elapsed.TotalSeconds:0.0} s: {accepted} parsed, {rejected} rejected with {allowed.Name}");
        Assert.True(run > 0);
    }

    private static readonly string[] OddValues = ["NaN", "-1e309", "1e308", "", "abc", "0", "-5", "4294967296", "Infinity", "1,5", " 7 ", "0x10", "null", "[]", "{}", "\"x\""];

    /// <summary>
    /// One to four random edits. Most keep the syntax valid so the parser gets past it: a number replaced by an odd
    /// value, a range deleted or duplicated (dropping or repeating vertices, regions, rows); others break it: a
    /// truncation, a bit flip, a syntax token inserted.
    /// </summary>
    private static byte[] Mutate(byte[] seed, Random random, string[] tokens)
    {
        var bytes = new List<byte>(seed);
        int edits = random.Next(1, 5);
        for (int i = 0; i < edits && bytes.Count > 0; i++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(tokens[random.Next(tokens.Length)]));
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 200), bytes.Count - at));
                    break;
                case 4:
                    int length = Math.Min(random.Next(1, 400), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                default:
                    ReplaceNumber(bytes, at, OddValues[random.Next(OddValues.Length)]);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Replaces the first run of digits at or after <paramref name="from"/> with <paramref name="value"/>.</summary>
    private static void ReplaceNumber(List<byte> bytes, int from, string value)
    {
        int start = bytes.FindIndex(from, b => b is >= (byte)'0' and <= (byte)'9');
        if (start < 0)
        {
            return;
        }

        int end = start;
        while (end < bytes.Count && (bytes[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'e' or (byte)'-'))
        {
            end++;
        }

        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, Encoding.UTF8.GetBytes(value));
    }

    private static byte[] FlipBits(byte[] bytes, Random random, int flips, int? limit = null)
    {
        int range = Math.Min(bytes.Length, limit ?? bytes.Length);
        for (int i = 0; i < flips && range > 0; i++)
        {
            bytes[random.Next(range)] ^= (byte)(1 << random.Next(8));
        }

        return bytes;
    }

    /// <summary>Protobuf-shaped noise: fields with random numbers, wire types, varints and (often lying) lengths.</summary>
    private static byte[] RandomProtobuf(Random random)
    {
        var bytes = new List<byte>();
        int fields = random.Next(1, 40);
        for (int i = 0; i < fields; i++)
        {
            int field = random.Next(1, 20), wire = random.Next(6);
            Varint(bytes, (ulong)((field << 3) | wire));
            switch (wire)
            {
                case 0: Varint(bytes, (ulong)random.NextInt64()); break;
                case 1: bytes.AddRange(BitConverter.GetBytes(random.NextInt64())); break;
                case 2:
                    int length = random.Next(0, 64);
                    Varint(bytes, random.Next(4) == 0 ? (ulong)random.NextInt64(0, uint.MaxValue) : (ulong)length);
                    var payload = new byte[length];
                    random.NextBytes(payload);
                    bytes.AddRange(payload);
                    break;
                case 5: bytes.AddRange(BitConverter.GetBytes(random.Next())); break;
                default: bytes.Add((byte)random.Next(256)); break;
            }
        }

        return [.. bytes];
    }

    private static void Varint(List<byte> bytes, ulong value)
    {
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
    }

    private static byte[] Head(string path, int length)
    {
        byte[] all = File.ReadAllBytes(path);
        return all[..Math.Min(length, all.Length)];
    }

    private const string SmallGeoJson = """
        {"type":"FeatureCollection","features":[
          {"type":"Feature","id":"a","properties":{"classification":{"name":"Benign","color":[1,2,3]}},"geometry":{"type":"Polygon","coordinates":[[[100,100],[5000,100],[5000,5000],[100,100]],[[200,200],[300,200],[300,300],[200,200]]]}},
          {"type":"Feature","properties":{"classification":{"name":"Invasive"}},"geometry":{"type":"MultiPolygon","coordinates":[[[[10000,10000],[30000,30000],[30000,10000],[10000,10000]]]]}},
          {"type":"Feature","properties":{"name":"In situ"},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,2],[3,1],[1,1]]]}}
        ]}
        """;
}
