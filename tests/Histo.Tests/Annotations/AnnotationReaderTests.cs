using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Histo.Annotations;
using static Histo.Tests.Annotations.AnnotationTestData;

namespace Histo.Tests.Annotations;

public class AnnotationReaderTests
{
    // Region and label counts from ../shared/data/annotations/README.md; vertex counts there include each ring's
    // closing vertex (all rings are closed) and, in A02, A05, A08 and A09, one repeated consecutive vertex, which
    // the reader drops.
    [Theory]
    [InlineData("A02", 18, 9312, 1, 1, 6, 8, 3)]
    [InlineData("A04", 2, 2203, 0, 1, 0, 0, 1)]
    [InlineData("A05", 16, 10725, 1, 1, 10, 2, 3)]
    [InlineData("A06", 7, 4276, 0, 1, 5, 0, 1)]
    [InlineData("A07", 8, 3229, 0, 1, 6, 0, 1)]
    [InlineData("A08", 93, 30668, 1, 1, 1, 7, 84)]
    [InlineData("A09", 30, 20610, 1, 1, 1, 23, 5)]
    [InlineData("A10", 10, 7745, 0, 1, 0, 8, 1)]
    public void Reads_every_bach_file_with_its_regions_labels_and_vertices(string slide, int regions, int fileVertices, int repeated,
        int normal, int benign, int inSitu, int invasive)
    {
        var set = AnnotationReader.Read(AnnotationTestData.Bach(slide));
        Assert.Equal(AnnotationFormat.AperioXml, set.Format);
        Assert.Equal(regions, set.Annotations.Count);
        Assert.Empty(set.UnknownLabels);
        Assert.Equal(fileVertices - regions - repeated, set.Annotations.Sum(a => a.VertexCount));
        Assert.Equal(0.466667, set.Mpp!.Value, 6);
        int[] expected = [normal, benign, inSitu, invasive];
        for (int code = 0; code < 4; code++)
        {
            Assert.Equal(expected[code], set.Annotations.Count(a => a.ClassCode == code));
        }

        // The added Normal region is the last one of each file.
        Assert.Equal(0, set.Annotations[^1].ClassCode);
        Assert.DoesNotContain(set.Warnings, w => w.Kind is AnnotationWarningKind.TooFewVertices or AnnotationWarningKind.InvalidCoordinates);
    }

    [Fact]
    public void Polygon_areas_match_the_areas_imagescope_stored()
    {
        var set = AnnotationReader.Read(AnnotationTestData.Bach("A10"));
        var stored = XDocument.Load(AnnotationTestData.Bach("A10")).Descendants("Region")
            .ToDictionary(r => (string)r.Attribute("Id")!, r => double.Parse((string)r.Attribute("Area")!, CultureInfo.InvariantCulture));
        foreach (var a in set.Annotations)
        {
            Assert.Equal(stored[a.Id!], a.Polygons[0].AreaLevel0, stored[a.Id!] * 0.002);
        }
    }

    [Fact]
    public void Reads_asap_and_reports_tumor_as_unknown_until_mapped()
    {
        var set = AnnotationReader.Read(Camelyon);
        Assert.Equal(AnnotationFormat.AsapXml, set.Format);
        Assert.Equal(3, set.Annotations.Count);
        Assert.Equal([new LabelCount("Tumor", 3)], set.UnknownLabels);
        Assert.Empty(set.Classified);
        Assert.Equal(new Level0Point(12711.2998, 88778.1016), set.Annotations[0].Polygons[0].Exterior[0]);
        Assert.Equal(8, set.Annotations[0].VertexCount);

        var mapped = AnnotationReader.Read(Camelyon, LabelMap.Parse("Tumor=Invasive"));
        Assert.All(mapped.Annotations, a => Assert.Equal(3, a.ClassCode));
        Assert.Empty(mapped.UnknownLabels);
        Assert.Equal(mapped.Annotations.Select(a => a.ClassCode), set.WithLabelMap(LabelMap.Parse("Tumor=3")).Annotations.Select(a => a.ClassCode));
    }

    [Fact]
    public void Reads_qupath_geojson_with_holes_multipolygons_and_skips_points()
    {
        const string json = """
        {"type": "FeatureCollection", "features": [
          {"type": "Feature", "id": "a1", "geometry": {"type": "Polygon", "coordinates": [
              [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]],
              [[40, 40], [60, 40], [60, 60], [40, 60], [40, 40]]]},
           "properties": {"objectType": "annotation", "classification": {"name": "Invasive carcinoma", "color": [200, 0, 0]}}},
          {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [
              [[[200, 0], [210, 0], [210, 10], [200, 10], [200, 0]]],
              [[[300, 0], [310, 0], [310, 10], [300, 10], [300, 0]]]]},
           "properties": {"objectType": "annotation", "classification": {"name": "Benign"}}},
          {"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 5]}, "properties": {"name": "a dot"}},
          {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]}, "properties": {"name": "Stroma"}}
        ]}
        """;
        var set = ParseText(json);
        Assert.Equal(AnnotationFormat.GeoJson, set.Format);
        Assert.Equal(3, set.Annotations.Count);
        var invasive = set.Annotations[0];
        Assert.Equal(("Invasive carcinoma", 3), (invasive.Label, invasive.ClassCode!.Value));
        Assert.Single(invasive.Polygons[0].Holes);
        Assert.Equal(100 * 100 - 20 * 20, invasive.Polygons[0].AreaLevel0, 6);
        Assert.Equal(4, invasive.Polygons[0].Exterior.Length); // closing vertex dropped
        Assert.Equal(2, set.Annotations[1].Polygons.Count);
        Assert.Equal(1, set.Annotations[1].ClassCode);
        Assert.Equal([new LabelCount("Stroma", 1)], set.UnknownLabels);
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.UnsupportedGeometry && w.Message.Contains("Point", StringComparison.Ordinal));

        // A bare array of features (older QuPath exports) reads the same.
        var array = ParseText("[" + json[(json.IndexOf('[', StringComparison.Ordinal) + 1)..json.LastIndexOf(']')] + "]");
        Assert.Equal(3, array.Annotations.Count);
    }

    [Fact]
    public void Geojson_classification_colours_are_read_in_the_qupath_forms()
    {
        static string Feature(string color) =>
            "{\"type\": \"Feature\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [10, 0], [10, 10], [0, 0]]]}, "
            + "\"properties\": {\"classification\": {\"name\": \"Benign\"" + color + "}}}";
        var set = ParseText("{\"type\": \"FeatureCollection\", \"features\": [" + string.Join(", ",
            Feature(", \"color\": [200, 0, 5]"), Feature(", \"color\": -16711936"), Feature(", \"color\": \"#ABC\""),
            Feature(", \"color\": \"red\""), Feature("")) + "]}");
        Assert.Equal(new string?[] { "#c80005", "#00ff00", "#aabbcc", null, null }, set.Annotations.Select(a => a.Color).ToArray());

        // Aperio XML carries no colour the reader takes.
        Assert.All(ParseText(Aperio(("1", "Benign", Rect(0, 0, 10, 10), "", ""))).Annotations, a => Assert.Null(a.Color));
    }

    [Fact]
    public void Label_may_sit_in_region_attributes_or_the_layer_and_negative_regions_are_unannotated()
    {
        string xml = Aperio(
            ("1", "", Rect(0, 0, 10, 10), "", "<Attributes><Attribute Name=\"1\" Id=\"0\" Value=\"Benign\"/></Attributes>"),
            ("2", "Carcinoma in situ", Rect(20, 0, 30, 10), "", ""),
            ("3", "Invasive", Rect(2, 2, 4, 4), "NegativeROA=\"1\"", ""));
        var set = ParseText(xml);
        Assert.Equal(["Benign", "Carcinoma in situ", "Invasive"], set.Annotations.Select(a => a.Label));
        Assert.Equal([1, 2, 0], set.Annotations.Select(a => a.ClassCode!.Value));
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.NegativeRegion && w.AnnotationId == "3");

        // With neither Text nor region attributes, the layer's name is the label (and here an unknown one).
        var layer = ParseText(Aperio(("1", "", Rect(0, 0, 10, 10), "", "")).Replace("Name=\"Layer 1\"", "Name=\"Tumour\"", StringComparison.Ordinal));
        Assert.Equal([new LabelCount("Tumour", 1)], layer.UnknownLabels);
    }

    [Fact]
    public void Ellipses_become_polygons_and_decimal_commas_are_read()
    {
        string xml = Aperio(("1", "Benign", [(0, 0), (200, 100)], "", "")).Replace("Type=\"0\"", "Type=\"2\"", StringComparison.Ordinal);
        var ellipse = ParseText(xml).Annotations.Single().Polygons[0];
        Assert.Equal(Math.PI * 100 * 50, ellipse.AreaLevel0, Math.PI * 100 * 50 * 0.01);

        const string asap = """
            <ASAP_Annotations><Annotations><Annotation Name="A" Type="Polygon" PartOfGroup="Tumor">
            <Coordinates><Coordinate Order="2" X="10,5" Y="10"/><Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="10,5" Y="0"/></Coordinates>
            </Annotation></Annotations></ASAP_Annotations>
            """;
        var ring = ParseText(asap).Annotations.Single().Polygons[0].Exterior;
        Assert.Equal([new Level0Point(0, 0), new Level0Point(10.5, 0), new Level0Point(10.5, 10)], ring); // sorted by Order
    }

    [Fact]
    public void Recoverable_problems_are_warnings_and_the_rest_is_kept()
    {
        string xml = Aperio(
            ("1", "Benign", [(0, 0), (10, 0)], "", ""),
            ("2", "Benign", [(0, 0), (10, 0), (10, 10), (0, 0)], "", ""),
            ("3", "Invasive", Rect(0, 0, 1e12, 10), "", ""),
            ("4", "Invasive", [(0, 0), (double.NaN, 0), (10, 10), (0, 10)], "", ""),
            ("5", "In situ", [(0, 0), (10, 10), (10, 0), (0, 10)], "", ""));
        var set = ParseText(xml);

        // Region 1 has 2 vertices, region 3 an absurd x, region 4 a NaN; region 2 (a triangle) and the bow-tie 5 are kept.
        Assert.Equal(["2", "5"], set.Annotations.Select(a => a.Id));
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.TooFewVertices && w.AnnotationId == "1");
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.InvalidCoordinates && w.AnnotationId == "3");
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.InvalidCoordinates && w.AnnotationId == "4");
        var crossing = Assert.Single(set.Warnings, w => w.Kind == AnnotationWarningKind.SelfIntersection);
        Assert.Equal("5", crossing.AnnotationId);
        Assert.Contains("even-odd", crossing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Polygons_outside_the_slide_are_clipped_or_dropped_with_warnings()
    {
        var set = new AnnotationSet(
        [
            new Annotation("Invasive", 3, [Square(-50, -50, 50, 50)], "1"),
            new Annotation("Benign", 1, [Square(200, 200, 300, 300)], "2"),
            new Annotation("Benign", 1, [Square(10, 10, 20, 20)], "3"),
        ], LabelMap.Bach, AnnotationFormat.GeoJson, "test");
        var clipped = set.ClipTo(0, 0, 100, 100);
        Assert.Equal(["1", "3"], clipped.Annotations.Select(a => a.Id));
        Assert.Equal((0.0, 0.0, 50.0, 50.0), clipped.Annotations[0].Polygons[0].Bounds);
        Assert.Equal(2500, clipped.Annotations[0].Polygons[0].AreaLevel0, 6);
        Assert.Same(set.Annotations[2], clipped.Annotations[1]);
        Assert.Equal(2, clipped.Warnings.Count(w => w.Kind == AnnotationWarningKind.OutsideBounds));
        Assert.Contains(clipped.Warnings, w => w.AnnotationId == "2" && w.Message.Contains("entirely outside", StringComparison.Ordinal));
    }

    [Fact]
    public void Unreadable_files_throw_typed_errors()
    {
        string dir = TestPaths.NewTempDirectory();
        string Write(string name, string text)
        {
            string path = Path.Combine(dir, name);
            File.WriteAllText(path, text);
            return path;
        }

        string truncated = File.ReadAllText(AnnotationTestData.Bach("A04"))[..5000];
        Assert.Contains("not well-formed XML", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("a.xml", truncated))).Message, StringComparison.Ordinal);
        const string laughs = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Annotations>&lol2;</Annotations>""";
        Assert.Contains("DTD", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("b.xml", laughs))).Message, StringComparison.Ordinal);
        Assert.Contains("<svg>", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("c.xml", "<svg></svg>"))).Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("d.geojson", "{\"type\": \"FeatureCollection\", \"features\": ["))).Message, StringComparison.Ordinal);
        Assert.Contains("not GeoJSON", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("e.json", "{\"foo\": 1}"))).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Write("f.xml", "  \n"))).Message, StringComparison.Ordinal);
        Assert.Contains("not found", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(Path.Combine(dir, "missing.xml"))).Message, StringComparison.Ordinal);
        Assert.Contains("looks like an image", Assert.Throws<AnnotationFormatException>(() => AnnotationReader.Read(TestPaths.A01Labels)).Message, StringComparison.Ordinal);
        Assert.Contains("without X or Y", Assert.Throws<AnnotationFormatException>(() => ParseText("<Annotations><Annotation><Regions><Region><Vertices><Vertex X=\"1\"/></Vertices></Region></Regions></Annotation></Annotations>")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_is_detected_from_content_not_extension()
    {
        Assert.Equal(AnnotationFormat.AperioXml, AnnotationReader.DetectFormat(File.ReadAllBytes(AnnotationTestData.Bach("A04"))));
        Assert.Equal(AnnotationFormat.AsapXml, AnnotationReader.DetectFormat(File.ReadAllBytes(Camelyon)));
        Assert.Equal(AnnotationFormat.GeoJson, AnnotationReader.DetectFormat(Encoding.UTF8.GetBytes("\uFEFF  {\"type\": \"FeatureCollection\", \"features\": []}")));
        Assert.Null(AnnotationReader.DetectFormat(File.ReadAllBytes(TestPaths.A01Labels)));
        Assert.Null(AnnotationReader.DetectFormat(Encoding.UTF8.GetBytes("<svg/>")));
    }
}
