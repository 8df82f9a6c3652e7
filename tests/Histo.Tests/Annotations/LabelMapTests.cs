using Histo.Annotations;

namespace Histo.Tests.Annotations;

public class LabelMapTests
{
    [Theory]
    [InlineData("Normal", 0)]
    [InlineData("NORMAL tissue", 0)]
    [InlineData("Benign", 1)]
    [InlineData("Carcinoma in situ", 2)]
    [InlineData("In situ carcinoma", 2)]
    [InlineData("Carcinoma invasive", 3)]
    [InlineData("Invasive carcinoma", 3)]
    [InlineData("  Invasive   carcinoma ", 3)]
    public void Bach_substrings_resolve_the_real_label_texts(string text, int code) => Assert.Equal(code, LabelMap.Bach.Resolve(text));

    [Theory]
    [InlineData("Tumor")]
    [InlineData("")]
    [InlineData("invasive or in situ")] // matches two substrings: ambiguous, left to a label map
    public void Bach_leaves_other_texts_unknown(string text) => Assert.Null(LabelMap.Bach.Resolve(text));

    [Fact]
    public void Inline_map_replaces_the_substrings()
    {
        var map = LabelMap.Parse("Tumor=Invasive, Other=Normal,DCIS=in situ,Cyst=1");
        Assert.Equal(3, map.Resolve("Tumor"));
        Assert.Equal(3, map.Resolve(" tumor "));
        Assert.Equal(0, map.Resolve("Other"));
        Assert.Equal(2, map.Resolve("DCIS"));
        Assert.Equal(1, map.Resolve("Cyst"));
        Assert.Null(map.Resolve("Benign"));
        Assert.Null(map.Resolve("Tumor region"));
        Assert.Equal(LabelMap.Bach.ClassNames, map.ClassNames);
    }

    [Fact]
    public void Json_file_map()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "labels.json");
        File.WriteAllText(path, """{"Tumor": "Invasive", "_2": 0}""");
        var map = LabelMap.Parse(path);
        Assert.Equal(3, map.Resolve("tumor"));
        Assert.Equal(0, map.Resolve("_2"));
    }

    [Theory]
    [InlineData("Tumor", "LABEL=CLASS")]
    [InlineData("Tumor=Cancer", "unknown class 'Cancer'")]
    [InlineData("=Normal", "LABEL=CLASS")]
    [InlineData("A=1,a=2", "mapped twice")]
    [InlineData("A=7", "out of range")]
    [InlineData("/no/such/labels.json", "not found")]
    [InlineData(" ", "empty")]
    public void Bad_maps_throw_with_a_reason(string spec, string reason) =>
        Assert.Contains(reason, Assert.Throws<LabelMapException>(() => LabelMap.Parse(spec)).Message, StringComparison.Ordinal);

    [Fact]
    public void Invalid_json_file_throws()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "labels.json");
        File.WriteAllText(path, """{"Tumor": """);
        Assert.Contains("not valid JSON", Assert.Throws<LabelMapException>(() => LabelMap.Parse(path)).Message, StringComparison.Ordinal);
    }
}
