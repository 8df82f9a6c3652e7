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
}
