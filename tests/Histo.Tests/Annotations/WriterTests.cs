using System.Text.Json;
using System.Xml.Linq;
using Histo.Annotations;
using static Histo.Tests.Annotations.AnnotationTestData;

namespace Histo.Tests.Annotations;

public class WriterTests
{
    private static readonly Annotation[] Sample =
    [
        new("Invasive carcinoma", 3, [Square(0, 0, 100.25, 100, (30, 30, 70, 70))], "7"),
        new("Benign", 1, [Square(200, 0, 210, 10), Square(300, 0, 310, 10)], "8"),
        new("Tumor", null, [Square(400, 0, 410, 10)], "9"),
    ];

    [Fact]
    public void Geojson_is_what_qupath_imports()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "out.geojson");
        AnnotationWriter.SaveGeoJson(path, Sample);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal("FeatureCollection", doc.RootElement.GetProperty("type").GetString());
        var features = doc.RootElement.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal(3, features.Count);
        var first = features[0];
        Assert.Equal("Polygon", first.GetProperty("geometry").GetProperty("type").GetString());
        var rings = first.GetProperty("geometry").GetProperty("coordinates");
        Assert.Equal(2, rings.GetArrayLength()); // exterior + hole
        var exterior = rings[0].EnumerateArray().ToList();
        Assert.Equal(5, exterior.Count); // closed
        Assert.Equal(exterior[0].GetRawText(), exterior[^1].GetRawText());
        Assert.Equal(100.25, exterior[1][0].GetDouble());
        var props = first.GetProperty("properties");
        Assert.Equal("annotation", props.GetProperty("objectType").GetString());
        Assert.Equal("Invasive", props.GetProperty("classification").GetProperty("name").GetString());
        Assert.Equal([214, 39, 40], props.GetProperty("classification").GetProperty("color").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal("Invasive carcinoma", props.GetProperty("name").GetString());
        Assert.Equal("MultiPolygon", features[1].GetProperty("geometry").GetProperty("type").GetString());
        Assert.Equal("Tumor", features[2].GetProperty("properties").GetProperty("classification").GetProperty("name").GetString());
    }

    [Fact]
    public void Geojson_round_trips()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "out.geojson");
        AnnotationWriter.SaveGeoJson(path, Sample);
        var back = AnnotationReader.Read(path);
        Assert.Equal([3, 1, (int?)null], back.Annotations.Select(a => a.ClassCode));
        Assert.Equal(Sample[0].Polygons[0].Exterior, back.Annotations[0].Polygons[0].Exterior);
        Assert.Equal(Sample[0].Polygons[0].Holes[0], back.Annotations[0].Polygons[0].Holes[0]);
        Assert.Equal(2, back.Annotations[1].Polygons.Count);
        Assert.Equal([new LabelCount("Tumor", 1)], back.UnknownLabels);
    }

    [Fact]
    public void Geojson_features_have_stable_uuid_ids_and_qupath_measurements()
    {
        string dir = TestPaths.NewTempDirectory();
        var measured = Sample.Select((a, i) => a with { Measurements = [new("Area µm^2", 100.5 * (i + 1)), new("Mean probability: Invasive", 0.25), new("Bad", double.NaN)] }).ToArray();
        string first = Path.Combine(dir, "a.geojson"), second = Path.Combine(dir, "b.geojson");
        AnnotationWriter.SaveGeoJson(first, measured);
        AnnotationWriter.SaveGeoJson(second, measured);
        Assert.Equal(File.ReadAllText(first), File.ReadAllText(second));

        using var doc = JsonDocument.Parse(File.ReadAllText(first));
        var features = doc.RootElement.GetProperty("features").EnumerateArray().ToList();
        var ids = features.Select(f => f.GetProperty("id").GetString()!).ToList();
        Assert.All(ids, id => Assert.True(Guid.TryParse(id, out _), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var m = features[1].GetProperty("properties").GetProperty("measurements");
        Assert.Equal(201, m.GetProperty("Area µm^2").GetDouble());
        Assert.False(m.TryGetProperty("Bad", out _)); // JSON has no NaN

        var back = AnnotationReader.Read(first);
        Assert.Equal([new AnnotationMeasurement("Area µm^2", 201), new AnnotationMeasurement("Mean probability: Invasive", 0.25)], back.Annotations[1].Measurements);

        // QuPath before 0.4 wrote measurements as a list of name/value objects.
        string list = Path.Combine(dir, "list.geojson");
        File.WriteAllText(list, """
            {"type":"Feature","id":"x","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]},
             "properties":{"classification":{"name":"Tumor"},"measurements":[{"name":"Area µm^2","value":12.5},{"name":"Note","value":"text"}]}}
            """);
        Assert.Equal([new AnnotationMeasurement("Area µm^2", 12.5)], AnnotationReader.Read(list).Annotations[0].Measurements);
    }

    [Fact]
    public void Asap_round_trips_with_holes_as_class_zero_polygons()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "out.xml");
        AnnotationWriter.Save(path, new AnnotationSet(Sample, LabelMap.Bach, AnnotationFormat.GeoJson, "test"));
        var xml = XDocument.Load(path);
        Assert.Equal("ASAP_Annotations", xml.Root!.Name.LocalName);
        Assert.Contains(xml.Descendants("Group"), g => (string?)g.Attribute("Name") == "Invasive" && (string?)g.Attribute("Color") == "#D62728");

        var back = AnnotationReader.Read(path);
        Assert.Equal(AnnotationFormat.AsapXml, back.Format);
        Assert.Equal(["7", "7 hole 1", "8 part 1", "8 part 2", "9"], back.Annotations.Select(a => a.Id));
        Assert.Equal([3, 0, 1, 1, (int?)null], back.Annotations.Select(a => a.ClassCode));

        // Painted nested-last, the hole polygon restores the hole.
        var original = AnnotationRasterizer.Rasterize(Sample, 50, 12, 10, 10);
        var reread = AnnotationRasterizer.Rasterize(back.Annotations, 50, 12, 10, 10);
        Assert.Equal(original.Pixels, reread.Pixels);
    }

    [Fact]
    public void Unknown_extension_is_refused_and_nothing_is_written()
    {
        string dir = TestPaths.NewTempDirectory();
        Assert.Throws<AnnotationFormatException>(() => AnnotationWriter.Save(Path.Combine(dir, "out.txt"), new AnnotationSet(Sample, LabelMap.Bach, AnnotationFormat.GeoJson, "t")));
        Assert.Empty(Directory.GetFiles(dir));
    }
}
