using System.Text.Json;
using Histo.Tests.Cli;

namespace Histo.Tests.Datasets;

public class DatasetCliTests
{
    [Fact]
    public void Dataset_json_on_idc_reports_classes_groups_sizes_and_problems()
    {
        var r = CliRunner.Run("dataset", DatasetTestData.IdcRoot, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal(7831, root.GetProperty("images").GetInt32());
        Assert.Equal("idc", root.GetProperty("sources")[0].GetProperty("scheme").GetString());
        var classes = root.GetProperty("classes");
        Assert.Equal(("0", 0, 5618), (classes[0].GetProperty("name").GetString(), classes[0].GetProperty("bach_code").GetInt32(), classes[0].GetProperty("count").GetInt32()));
        Assert.Equal(("1", 3, 2213), (classes[1].GetProperty("name").GetString(), classes[1].GetProperty("bach_code").GetInt32(), classes[1].GetProperty("count").GetInt32()));
        var groups = root.GetProperty("groups");
        Assert.Equal(192, groups.GetProperty("count").GetInt32());
        Assert.Equal(192, groups.GetProperty("by_kind").GetProperty("patient").GetInt32());
        Assert.Equal((2, 30.0, 478), (groups.GetProperty("min_images").GetInt32(), groups.GetProperty("median_images").GetDouble(), groups.GetProperty("max_images").GetInt32()));
        var top = root.GetProperty("sizes")[0];
        Assert.Equal((50, 50, 7773), (top.GetProperty("width").GetInt32(), top.GetProperty("height").GetInt32(), top.GetProperty("count").GetInt32()));
        Assert.Equal("pad", root.GetProperty("size_policy").GetString());
        var problems = root.GetProperty("problems");
        Assert.Equal(58, problems.GetProperty("by_kind").GetProperty("smaller_than_usual").GetInt32());
        Assert.Equal(2, problems.GetProperty("by_kind").GetProperty("skipped_non_image").GetInt32());
        Assert.Equal(60, problems.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public void Dataset_text_on_bach_and_breakhis_combined()
    {
        var r = CliRunner.Run("dataset", DatasetTestData.BachRoot, DatasetTestData.BreakHisRoot);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("12 images", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("class-folders, 4 images", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("breakhis, 8 images", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("8 patients, 4 source images", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 (InSitu)", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("587x441: 1", r.StdOut, StringComparison.Ordinal);
        Assert.Equal("", r.StdErr);
    }

    [Fact]
    public void Dataset_bad_inputs_give_one_error_line()
    {
        string empty = TestPaths.NewTempDirectory();
        CliRunner.AssertOneLineError(CliRunner.Run("dataset", empty), "no images found");
        CliRunner.AssertOneLineError(CliRunner.Run("dataset", Path.Combine(empty, "missing")), "not found");
        CliRunner.AssertOneLineError(CliRunner.Run("dataset", TestPaths.Shared("annotations")), "non-image files skipped");

        string oneClass = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(oneClass, "Normal"));
        File.Copy(TestPaths.Shared("microscopy", "bach", "Normal", "normal.png"), Path.Combine(oneClass, "Normal", "n.png"));
        CliRunner.AssertOneLineError(CliRunner.Run("dataset", oneClass), "at least two classes");

        string csv = Path.Combine(empty, "bad.csv");
        File.WriteAllText(csv, "path,label\na.png,Normal\nb.png\n");
        CliRunner.AssertOneLineError(CliRunner.Run("dataset", csv), "line 3");

        var usage = CliRunner.Run("dataset", empty, "--size-policy", "stretch");
        CliRunner.AssertOneLineError(usage, "--size-policy");
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public void Leakcheck_naive_split_of_idc_exits_1_with_patients_on_both_sides()
    {
        var r = CliRunner.Run("leakcheck", DatasetTestData.IdcRoot, "--ungrouped", "--folds", "3", "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("leaky").GetBoolean());
        Assert.False(root.GetProperty("split").GetProperty("grouped").GetBoolean());
        Assert.True(root.GetProperty("group_leaks").GetProperty("count").GetInt32() >= 180);
        Assert.StartsWith("LEAK", root.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("error:", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Leakcheck_finds_a_copied_image_saves_and_reuses_the_split()
    {
        string root = DatasetTestData.CopyIdcPatients(DatasetTestData.SmallPatients);
        string[] p = DatasetTestData.SmallPatients;
        string splitPath = Path.Combine(TestPaths.NewTempDirectory(), "split.json");

        var clean = CliRunner.Run("leakcheck", root, "--folds", "4", "--seed", "3", "--save-split", splitPath);
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains("verdict: clean", clean.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(splitPath));

        string original = DatasetTestData.InformativePatch(root, p[0], 0);
        File.Copy(original, Path.Combine(root, p[1], "0", $"{p[1]}_idx5_x9001_y9001_class0.png"));
        // The saved split does not know the new file: it is refused rather than silently half-applied.
        CliRunner.AssertOneLineError(CliRunner.Run("leakcheck", root, "--split", splitPath), "does not cover 1");

        var leaky = CliRunner.Run("leakcheck", root, "--folds", "4", "--seed", "3", "--json");
        Assert.Equal(1, leaky.ExitCode);
        using var doc = JsonDocument.Parse(leaky.StdOut);
        var exact = doc.RootElement.GetProperty("exact_duplicates");
        Assert.Equal(1, exact.GetProperty("count").GetInt32());
        Assert.Contains(original, new[] { exact.GetProperty("examples")[0].GetProperty("path_a").GetString(), exact.GetProperty("examples")[0].GetProperty("path_b").GetString() });

        var text = CliRunner.Run("leakcheck", root, "--folds", "4", "--seed", "3");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("3. exact duplicate files across folds: 1", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("verdict: LEAK", text.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dataset", "--size-policy")]
    [InlineData("leakcheck", "--min-correlation")]
    public void Help_renders(string verb, string option)
    {
        var r = CliRunner.Run(verb, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("path,label[,group]", r.StdOut, StringComparison.Ordinal);
        Assert.Contains(option, r.StdOut, StringComparison.Ordinal);
        Assert.Equal("", r.StdErr);
    }

    [Fact]
    public void Leakcheck_bad_inputs_give_one_error_line()
    {
        var tooMany = CliRunner.Run("leakcheck", DatasetTestData.BreakHisRoot, "--folds", "9");
        CliRunner.AssertOneLineError(tooMany, "9 folds need at least 9 groups");
        Assert.EndsWith("; use --folds 8 or fewer, or add data from more groups", tooMany.StdErr.TrimEnd(), StringComparison.Ordinal);
        var folds = CliRunner.Run("leakcheck", DatasetTestData.BreakHisRoot, "--folds", "1");
        CliRunner.AssertOneLineError(folds, "--folds");
        Assert.Equal(2, folds.ExitCode);
        var both = CliRunner.Run("leakcheck", DatasetTestData.BreakHisRoot, "--split", "s.json", "--folds", "3");
        CliRunner.AssertOneLineError(both, "--split");
        Assert.Equal(2, both.ExitCode);
        Assert.Equal(2, CliRunner.Run("leakcheck", DatasetTestData.BreakHisRoot, "--hamming", "40").ExitCode);

        string dir = TestPaths.NewTempDirectory();
        string badSplit = Path.Combine(dir, "split.json");
        File.WriteAllText(badSplit, "{ not json");
        CliRunner.AssertOneLineError(CliRunner.Run("leakcheck", DatasetTestData.BreakHisRoot, "--split", badSplit), "malformed split");

        string saved = Path.Combine(dir, "never.json");
        CliRunner.AssertOneLineError(CliRunner.Run("leakcheck", TestPaths.NewTempDirectory(), "--save-split", saved), "no images found");
        Assert.False(File.Exists(saved));
        Assert.Empty(Directory.EnumerateFiles(dir, ".never*"));
    }
}
