using Histo.Annotations;
using Histo.Bach;
using Histo.Cli;
using Histo.Imaging;
using Histo.Cohorts;
using Histo.Maps;
using Histo.Scoring;
using Histo.Tests.Annotations;

namespace Histo.Tests.Cli;

/// <summary>
/// A library failure or warning names the input to change (<see cref="HistoParameter"/>) and no command-line option;
/// histo words the remedy with its option (<see cref="OptionRemedies"/>), in the text users have always seen.
/// </summary>
public sealed class OptionRemediesTests
{
    private const int Size = 313;

    [Fact]
    public void Every_parameter_has_an_option()
    {
        foreach (HistoParameter parameter in Enum.GetValues<HistoParameter>())
        {
            Assert.Matches("^--[a-z][a-z-]+$", OptionRemedies.Option(parameter));
        }
    }

    [Fact]
    public void A_bad_shard_is_worded_with_its_option()
    {
        var e = Assert.Throws<InvalidParameterException>(() => Shard.Parse("2/2"));
        AssertNamesNoOption(e, HistoParameter.Shard);
        Assert.Equal("--shard: a shard must be i/n with 0 <= i < n (e.g. 0/4), got '2/2'", OptionRemedies.Error(e));
    }

    [Fact]
    public void A_bad_label_map_is_worded_with_its_option()
    {
        var e = Assert.Throws<LabelMapException>(() => LabelMap.Parse(" "));
        AssertNamesNoOption(e, HistoParameter.LabelMap);
        Assert.Equal("--label-map: empty label map; give e.g. Tumor=Invasive,Other=Normal or a JSON file", OptionRemedies.Error(e));
        var unknown = Assert.Throws<LabelMapException>(() => LabelMap.Parse("Tumor=Cancer"));
        Assert.Equal("--label-map: " + unknown.Message, OptionRemedies.Error(unknown));
    }

    [Fact]
    public void Truth_with_no_mapped_label_names_the_label_map_and_the_labels()
    {
        string dir = SlideDir(withGeometry: true);
        var e = Assert.Throws<ScoringException>(() => SlideScorer.Score(dir, AnnotationTestData.Camelyon));
        AssertNamesNoOption(e, HistoParameter.LabelMap);
        Assert.Equal("Tumor", Assert.Single(e.UnknownLabels).Label);
        Assert.Equal($"{e.Problem}; give a label map, e.g. \"Tumor=Invasive\"", e.Message);
        Assert.Equal($"{e.Problem}; pass --label-map, e.g. --label-map \"Tumor=Invasive\"", OptionRemedies.Error(e));
    }

    [Fact]
    public void Annotations_without_geometry_name_the_geometry()
    {
        string dir = SlideDir(withGeometry: false);
        var e = Assert.Throws<ScoringException>(() => SlideScorer.Score(Path.Combine(dir, "bach.png"), AnnotationTestData.Bach("A04")));
        AssertNamesNoOption(e, HistoParameter.MapGeometry);
        Assert.EndsWith($"no {MapGeometry.FileName} beside it", e.Problem, StringComparison.Ordinal);
        Assert.Equal($"{e.Problem} (give the slide output directory, or --geometry)", OptionRemedies.Error(e));
    }

    [Fact]
    public void An_unknown_label_warning_names_the_label_map()
    {
        string dir = SlideDir(withGeometry: true);
        string truth = Path.Combine(dir, "truth.geojson");
        File.WriteAllText(truth, """
            {"type": "FeatureCollection", "features": [
              {"type": "Feature", "properties": {"classification": {"name": "Invasive"}}, "geometry": {"type": "Polygon", "coordinates": [[[11000, 500], [12000, 500], [12000, 1500], [11000, 1500], [11000, 500]]]}},
              {"type": "Feature", "properties": {"classification": {"name": "Stroma"}}, "geometry": {"type": "Polygon", "coordinates": [[[13000, 3000], [13500, 3000], [13500, 3500], [13000, 3500], [13000, 3000]]]}}]}
            """);
        var warning = Assert.Single(SlideScorer.Score(dir, truth).Warnings, w => w.Code == WarningCode.UnknownLabel);
        Assert.Equal(HistoParameter.LabelMap, warning.Parameter);
        Assert.DoesNotContain("--", warning.Message, StringComparison.Ordinal);
        Assert.Equal($"{warning.Problem}; give a label map that names it", warning.Message);
        Assert.Equal($"{warning.Problem}; use --label-map", OptionRemedies.Warning(warning));
    }

    [Fact]
    public void Failures_and_warnings_without_a_parameter_keep_their_message()
    {
        var plain = new HistoException("something failed");
        Assert.Null(plain.Parameter);
        Assert.Equal("something failed", plain.Problem);
        Assert.Equal("something failed", OptionRemedies.Error(plain));
        var warning = new HistoWarning(WarningCode.NoMpp, "no µm/px");
        Assert.Equal(("no µm/px", (HistoParameter?)null), (warning.Problem, warning.Parameter));
        Assert.Equal("no µm/px", OptionRemedies.Warning(warning));
    }

    private static void AssertNamesNoOption(HistoException e, HistoParameter parameter)
    {
        Assert.Equal(parameter, e.Parameter);
        Assert.Contains(e.Problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
    }

    /// <summary>An all-Normal bach.png over the A01 window (origin x 10000, y 0), with or without its geometry.json.</summary>
    private static string SlideDir(bool withGeometry)
    {
        string dir = TestPaths.NewTempDirectory();
        ImageIO.SaveGray(Path.Combine(dir, "bach.png"), new byte[Size * Size], Size, Size);
        if (withGeometry)
        {
            new MapGeometry(10000, 0, 5000, 5000, Size, Size, BachClasses.Names).Save(Path.Combine(dir, MapGeometry.FileName));
        }

        return dir;
    }
}
