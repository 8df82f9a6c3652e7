using System.Text.Json;
using Histo.Maps;
using Histo.Models;
using Histo.Outputs;
using Histo.Tests.Cli;
using Histo.Tests.Training;

namespace Histo.Tests.Inference;

public sealed class ClassNameTests
{
    [Fact]
    public void Idc_outputs_call_the_classes_non_IDC_tissue_and_IDC_keeping_their_BACH_classes()
    {
        var result = PipelineMaps.Checkered(TestPaths.CmuSmall);
        string outRoot = TestPaths.NewTempDirectory();
        SlideOutputs.Write(outRoot, result, new SlideProvenance("idc"));
        string dir = Path.Combine(outRoot, "cmu-1-small-region");
        string[] names = ["non-IDC tissue", "IDC"];

        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))))
        {
            var model = summary.RootElement.GetProperty("model");
            Assert.Equal(names, model.GetProperty("classes").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Equal(["0", "1"], model.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray());
            var classes = summary.RootElement.GetProperty("classes").EnumerateArray().ToList();
            Assert.Equal(names, classes.Select(e => e.GetProperty("name").GetString()!).ToArray());
            Assert.Equal(["Normal", "Invasive"], classes.Select(e => e.GetProperty("bach_class").GetString()!).ToArray());
        }

        using (var geojson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "prediction.geojson"))))
        {
            var used = geojson.RootElement.GetProperty("features").EnumerateArray()
                .Select(f => f.GetProperty("properties").GetProperty("classification").GetProperty("name").GetString()!).Distinct().Order().ToArray();
            Assert.Equal(["IDC", "non-IDC tissue"], used);
        }

        Assert.Equal("level0_x,level0_y,level0_size,tissue_fraction,p_non-IDC tissue,p_IDC", File.ReadLines(Path.Combine(dir, "patches.csv")).First());
        Assert.Equal(names, MapGeometry.Load(Path.Combine(dir, "geometry.json")).Classes);
        Assert.Equal(["non-IDC tissue", "IDC"], SlideOutputs.ColorBarClassLabels(result).Select(t => t.Label).ToArray());
        Assert.Equal([0.0, 1.0], SlideOutputs.ColorBarClassLabels(result).Select(t => t.Position).ToArray());

        // The directory reads back with the card that made it.
        var reread = SlideOutputs.Read(dir, result.Card);
        Assert.Equal(result.ClassMap, reread.ClassMap);
    }

    [Fact]
    public void Names_given_for_labels_replace_the_derived_ones_and_bad_ones_are_refused()
    {
        Assert.Equal(["stroma", "IDC"], ModelCard.NamesFor(["0", "1"], new Dictionary<string, string> { ["0"] = "stroma" }));
        Assert.Equal(["a", "b"], ModelCard.NamesFor(["a", "b"], new Dictionary<string, string>()));
        Assert.Throws<InvalidParameterException>(() => ModelCard.NamesFor(["0", "1"], new Dictionary<string, string> { ["2"] = "x" }));
        Assert.Throws<InvalidParameterException>(() => ModelCard.NamesFor(["0", "1"], new Dictionary<string, string> { ["0"] = "IDC" }));
        Assert.Throws<InvalidParameterException>(() => ModelCard.NamesFor(["0", "1"], new Dictionary<string, string> { ["0"] = " " }));
        var card = PipelineMaps.IdcCard();
        Assert.Equal(["non-IDC tissue", "IDC"], card.DisplayClassNames);
        card.ClassNames = ["benign", "malignant"];
        Assert.Equal(["benign", "malignant"], card.DisplayClassNames);
        Assert.Equal(["0", "1"], card.Classes);
    }

    [Fact]
    public void Histo_train_class_names_reach_the_card_summary_cohort_table_and_geojson()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 4, perClass: 6);
        string model = Path.Combine(dir, "model");
        var bad = CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, model), "--image-mpp", "4", "--class-names", "0=stroma,7=tumour"]);
        CliRunner.AssertOneLineError(bad, "'7' is not a class");
        Assert.Equal(2, CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, model), "--class-names", "0"]).ExitCode);

        var train = CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, model), "--image-mpp", "4", "--class-names", "0=benign stroma,1=carcinoma"]);
        Assert.True(train.ExitCode == 0, train.StdErr);
        var card = ModelCard.Load(model);
        Assert.Equal(["0", "1"], card.Classes);
        Assert.Equal(["benign stroma", "carcinoma"], card.ClassNames);

        string outRoot = Path.Combine(dir, "out");
        var slide = CliRunner.Run("slide", model, TestPaths.CmuSmall, "-o", outRoot, "--threads", "2");
        Assert.True(slide.ExitCode == 0, slide.StdErr);
        Assert.Equal("slide,status,tissue_mm2,benign stroma_mm2,carcinoma_mm2,benign stroma_fraction,carcinoma_fraction,patch_count,seconds,model,model_id,software_version,error", File.ReadLines(Path.Combine(outRoot, "cohort.csv")).First());
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outRoot, "cmu-1-small-region", "summary.json")));
        Assert.Equal(["benign stroma", "carcinoma"], summary.RootElement.GetProperty("classes").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray());
        string geojson = File.ReadAllText(Path.Combine(outRoot, "cmu-1-small-region", "prediction.geojson"));
        Assert.DoesNotContain("\"name\":\"0\"", geojson, StringComparison.Ordinal);
        Assert.DoesNotContain("\"name\":\"1\"", geojson, StringComparison.Ordinal);
    }
}
