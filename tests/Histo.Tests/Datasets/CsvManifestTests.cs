using Histo.Datasets;

namespace Histo.Tests.Datasets;

public class CsvManifestTests
{
    [Fact]
    public void Header_columns_in_any_order_with_quoted_fields()
    {
        const string text = "\uFEFFlabel,notes,Path,Group\r\n" +
                            "Benign,\"has, a comma\",\"images/a, b.png\",P1\r\n" +
                            "\r\n" +
                            "Normal,\"say \"\"hi\"\"\",c.png,\r\n";
        var rows = CsvManifest.Parse(text, "m.csv");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new ManifestRow(2, "images/a, b.png", "Benign", "P1"), rows[0]);
        Assert.Equal(new ManifestRow(4, "c.png", "Normal", null), rows[1]);
    }

    [Fact]
    public void Without_header_columns_are_path_label_and_optional_group()
    {
        var rows = CsvManifest.Parse("a.png,0\nb.png,1,patient7\n", "m.csv");
        Assert.Equal(new ManifestRow(1, "a.png", "0", null), rows[0]);
        Assert.Equal(new ManifestRow(2, "b.png", "1", "patient7"), rows[1]);
    }

    [Fact]
    public void Quoted_field_with_a_line_break_keeps_line_numbers_right()
    {
        var rows = CsvManifest.Parse("path,label\n\"odd\nname.png\",Benign\nnext.png,Normal\n", "m.csv");
        Assert.Equal("odd\nname.png", rows[0].Path);
        Assert.Equal(2, rows[0].LineNumber);
        Assert.Equal(4, rows[1].LineNumber);
    }

    [Theory]
    [InlineData("path,label\na.png,Benign\n\"b.png,Normal\n", 3, "unterminated")]
    [InlineData("path,label\na.png,Benign\nb.png,Normal,extra\n", 3, "expected 2 fields")]
    [InlineData("a.png,Benign\nb.png\n", 2, "found 1 field")]
    [InlineData("a.png,Benign,g,h\n", 1, "found 4 fields")]
    [InlineData("path,label\na.png,\n", 2, "empty label")]
    [InlineData("path,label\n,Benign\n", 2, "empty path")]
    [InlineData("path,label\na\"b.png,Benign\n", 2, "quote inside an unquoted field")]
    [InlineData("path,label\n\"a.png\"x,Benign\n", 2, "after a closing quote")]
    [InlineData("path,group\na.png,g\n", 1, "label column")]
    public void Malformed_manifests_name_the_line(string text, int line, string problem)
    {
        var e = Assert.Throws<ManifestFormatException>(() => CsvManifest.Parse(text, "m.csv"));
        Assert.Equal(line, e.LineNumber);
        Assert.Contains($"m.csv, line {line}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
