using Histo.Maps;

namespace Histo.Tests.Scoring;

public class MapGeometryTests
{
    [Fact]
    public void Round_trips_through_geometry_json()
    {
        var geometry = new MapGeometry(10000, 0, 5000, 5000, 313, 313, ["Normal", "Benign", "InSitu", "Invasive"]);
        string path = Path.Combine(TestPaths.NewTempDirectory(), MapGeometry.FileName);
        geometry.Save(path);
        string text = File.ReadAllText(path);
        Assert.Contains("\"level0_x\": 10000", text, StringComparison.Ordinal);
        Assert.Contains("\"level0_height\": 5000", text, StringComparison.Ordinal);
        var back = MapGeometry.Load(path);
        Assert.Equal((10000.0, 0.0, 5000.0, 5000.0, 313, 313), (back.Level0X, back.Level0Y, back.Level0Width, back.Level0Height, back.Width, back.Height));
        Assert.Equal(geometry.Classes, back.Classes);
        Assert.Equal(5000.0 / 313, back.Level0PerPixelX, 12);
        var mask = back.CreateMask();
        Assert.Equal((313, 313, 10000.0), (mask.Width, mask.Height, mask.Level0X));
        Assert.Equal(back.Level0Width, MapGeometry.Of(mask, back.Classes).Level0Width, 9);
    }

    [Theory]
    [InlineData("{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 10, \"level0_height\": 10, \"width\": 5}", "\"height\"")]
    [InlineData("{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 0, \"level0_height\": 10, \"width\": 5, \"height\": 5}", "positive")]
    [InlineData("{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 10, \"level0_height\": 10, \"width\": 5, \"height\": 5, \"classes\": [1]}", "classes")]
    [InlineData("[1, 2]", "one JSON object")]
    [InlineData("{", "not valid JSON")]
    public void Bad_documents_throw(string json, string reason) =>
        Assert.Contains(reason, Assert.Throws<MapGeometryException>(() => MapGeometry.Parse(json)).Message, StringComparison.Ordinal);

    [Fact]
    public void Extra_fields_are_ignored_and_classes_are_optional()
    {
        var g = MapGeometry.Parse("{\"level0_x\": 1.5, \"level0_y\": 2, \"level0_width\": 10, \"level0_height\": 20, \"width\": 5, \"height\": 10, \"mpp\": 0.5}");
        Assert.Empty(g.Classes);
        Assert.Equal(2, g.Level0PerPixelY);
    }

    [Fact]
    public void Classes_may_be_objects_with_colours_and_colours_come_in_the_annotation_forms()
    {
        var g = MapGeometry.Parse("""
            {"level0_x": 0, "level0_y": 0, "level0_width": 10, "level0_height": 10, "width": 20.0, "height": 10,
             "classes": ["Normal", {"name": "Stroma", "color": [1, 2, 3]}, "Other", {"name": "Fat"}],
             "class_colors": ["#ABC", -65536, "not a colour"],}
            """);
        Assert.Equal((20, 10), (g.Width, g.Height));
        Assert.Equal(new[] { "Normal", "Stroma", "Other", "Fat" }, g.Classes);
        Assert.Equal(new string?[] { "#aabbcc", "#010203", null }, g.ClassColors);

        var named = MapGeometry.Parse("{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 10, \"level0_height\": 10, \"width\": 2, \"height\": 2, \"class_names\": [\"A\", \"B\"]}");
        Assert.Equal(new[] { "A", "B" }, named.Classes);
        Assert.Null(named.ClassColors);
        Assert.Contains("\"width\"", Assert.Throws<MapGeometryException>(() => MapGeometry.Parse(
            "{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 10, \"level0_height\": 10, \"width\": 2.5, \"height\": 2}")).Message, StringComparison.Ordinal);
        Assert.Contains("classes", Assert.Throws<MapGeometryException>(() => MapGeometry.Parse(
            "{\"level0_x\": 0, \"level0_y\": 0, \"level0_width\": 10, \"level0_height\": 10, \"width\": 2, \"height\": 2, \"classes\": [{\"color\": \"#fff\"}]}")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_colours_round_trip_as_null()
    {
        var geometry = new MapGeometry(0, 0, 10, 10, 2, 2, ["A", "B"]) { ClassColors = ["#010203", null] };
        var back = MapGeometry.Parse(geometry.ToJson());
        Assert.Equal(new string?[] { "#010203", null }, back.ClassColors);
    }
}
