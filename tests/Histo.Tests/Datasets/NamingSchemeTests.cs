using Histo.Bach;
using Histo.Datasets;

namespace Histo.Tests.Datasets;

public class NamingSchemeTests
{
    [Fact]
    public void Idc_names_parse_and_others_do_not()
    {
        var idc = NamingSchemes.TryParseIdc("10253_idx5_x1001_y751_class1.png");
        Assert.Equal(new IdcName("10253", 1001, 751, 1), idc);
        Assert.Null(NamingSchemes.TryParseIdc("10253_idx5_x1001_y751_class2.png"));
        Assert.Null(NamingSchemes.TryParseIdc("10253_idx5_x1001_class1.png"));
        Assert.Null(NamingSchemes.TryParseIdc("10253_idx5_x1001_y751_class1.jpg"));
        Assert.Null(NamingSchemes.TryParseIdc("normal.png"));
    }

    [Fact]
    public void BreakHis_names_of_the_real_files_parse_to_their_folder_labels_and_patients()
    {
        // labels.csv (written by whoever collected the files) gives label, subtype and patient per file.
        var rows = File.ReadAllLines(TestPaths.Shared("microscopy", "labels.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(f => f[1] == "BreakHis").ToList();
        Assert.Equal(8, rows.Count);
        foreach (var f in rows)
        {
            var name = NamingSchemes.TryParseBreakHis(Path.GetFileName(f[0]));
            Assert.NotNull(name);
            Assert.Equal(f[2], name.Label);
            Assert.Equal(f[4], name.Subtype);
            Assert.Equal(f[5], name.PatientId);
            Assert.Equal(40, name.Magnification);
        }

        var dc = NamingSchemes.TryParseBreakHis("SOB_M_DC-14-2523-40-010.png")!;
        Assert.True(dc.Malignant);
        Assert.Equal("DC", dc.SubtypeCode);
        Assert.Equal(10, dc.Sequence);
        Assert.Null(NamingSchemes.TryParseBreakHis("SOB_X_DC-14-2523-40-010.png"));
        Assert.Null(NamingSchemes.TryParseBreakHis("SOB_M_DC-14-2523-40.png"));
    }

    [Theory]
    [InlineData("Normal", 0)]
    [InlineData("benign", 1)]
    [InlineData("InSitu", 2)]
    [InlineData("in_situ", 2)]
    [InlineData("In Situ", 2)]
    [InlineData("INVASIVE", 3)]
    public void Bach_class_names_map_to_codes_ignoring_case_and_punctuation(string name, int code) =>
        Assert.Equal(code, BachClasses.CodeOfName(name));

    [Theory]
    [InlineData("Tumor")]
    [InlineData("malignant")]
    [InlineData("0")]
    public void Other_class_names_have_no_bach_code(string name) => Assert.Null(BachClasses.CodeOfName(name));

    [Theory]
    [InlineData("A01_x1000_y2000.png", "A01")]
    [InlineData("b001_3.png", "b001")]
    [InlineData("n001-tile12.png", "n001")]
    [InlineData("iv001_r3_c4.tif", "iv001")]
    [InlineData("iv001.tif", "iv001")]
    [InlineData("12345.png", "12345")]
    [InlineData("slide 7_patch12.jpg", "slide 7")]
    public void Source_image_ids_drop_trailing_patch_tokens(string file, string source) =>
        Assert.Equal(source, NamingSchemes.SourceImageIdOf(file));
}
