using System.Text.Json;
using Histo.Annotations;
using Histo.Bach;
using Histo.Models;

namespace Histo.Tests.Bach;

/// <summary>One palette and one name rule: every reader of a BACH class name and every writer of a class colour agree.</summary>
public sealed class ClassPaletteTests
{
    [Theory]
    [InlineData("Normal", 0)]
    [InlineData("benign lesion", 1)]
    [InlineData("Carcinoma in situ", 2)]
    [InlineData("Invasive carcinoma", 3)]
    public void The_substring_rule_gives_one_code_that_the_label_map_the_card_and_the_palette_share(string name, int code)
    {
        Assert.Equal([code], BachClasses.CodesMatching(name));
        Assert.Equal(code, LabelMap.Bach.Resolve(name));
        Assert.Equal([code], ModelCard.InferBachCodes([name])!);
        Assert.Equal(ClassPalette.ColorOfBachCode(code), ClassPalette.BachColorOfName(name));
        Assert.Equal(ClassPalette.ColorOfBachCode(code), ClassPalette.ColorOfLabel(code, BachClasses.Names[code]));
        Assert.Equal(ClassPalette.ColorOfBachCode(code), ClassPalette.ColorOfClass(0, [code]));
    }

    [Fact]
    public void A_name_matching_two_classes_is_ambiguous_for_a_label_and_the_first_for_a_class_name()
    {
        Assert.Equal([0, 3], BachClasses.CodesMatching("normal or invasive"));
        Assert.Null(LabelMap.Bach.Resolve("normal or invasive"));
        Assert.Equal(0, BachClasses.FirstCodeMatching("normal or invasive"));
        Assert.Empty(BachClasses.CodesMatching("stroma"));
        Assert.Null(ClassPalette.BachColorOfName("stroma"));
        Assert.Equal(ClassPalette.ColorOfBachCode(3), ClassPalette.BachColorOfName("Tumour"));
    }

    [Fact]
    public void The_four_BACH_colours_are_distinct_and_an_annotation_geojson_paints_them_as_the_maps_do()
    {
        var colours = Enumerable.Range(0, BachClasses.Count).Select(ClassPalette.ColorOfBachCode).ToList();
        Assert.Equal(BachClasses.Count, colours.Distinct().Count());
        Assert.Equal(["#2ca02c", "#e6c619", "#ff7f0e", "#d62728"], colours.Select(ClassPalette.ToHex));

        string path = Path.Combine(TestPaths.NewTempDirectory(), "classes.geojson");
        AnnotationWriter.SaveGeoJson(path, Enumerable.Range(0, 4)
            .Select(k => new Annotation(BachClasses.Names[k], k, [Histo.Tests.Annotations.AnnotationTestData.Square(20 * k, 0, 20 * k + 10, 10)])).ToList());
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var written = doc.RootElement.GetProperty("features").EnumerateArray()
            .Select(f => f.GetProperty("properties").GetProperty("classification").GetProperty("color").EnumerateArray().Select(c => (byte)c.GetInt32()).ToArray())
            .Select(c => (c[0], c[1], c[2])).ToList();
        Assert.Equal(colours, written);
    }
}
