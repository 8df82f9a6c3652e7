using Histo.Datasets;

namespace Histo.Tests.Datasets;

public class GroupKFoldTests
{
    [Fact]
    public void Idc_split_keeps_patients_whole_and_class_mix_even()
    {
        var ds = DatasetTestData.FullIdc;
        var split = GroupKFold.Split(ds, 5, seed: 7);
        int[] folds = split.FoldsOf(ds);
        Assert.Equal(ds.Items.Count, split.FoldByPath.Count);
        foreach (var group in ds.Items.Select((item, i) => (item.Group, Fold: folds[i])).GroupBy(x => x.Group))
        {
            Assert.Single(group.Select(x => x.Fold).Distinct());
        }

        double overall = ds.CountsPerClass[1] / (double)ds.Items.Count;
        foreach (var fold in split.Summarize(ds))
        {
            Assert.InRange(fold.ItemCount, ds.Items.Count / 5 * 0.9, ds.Items.Count / 5 * 1.1);
            Assert.InRange(fold.CountsPerClass[1] / (double)fold.ItemCount, overall - 0.02, overall + 0.02);
        }

        Assert.Empty(split.Warnings(ds));
        Assert.True(split.Grouped);
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_split()
    {
        var ds = DatasetTestData.FullIdc;
        var a = GroupKFold.Split(ds, 3, seed: 1);
        var b = GroupKFold.Split(ds, 3, seed: 1);
        var c = GroupKFold.Split(ds, 3, seed: 2);
        Assert.Equal(a.FoldsOf(ds), b.FoldsOf(ds));
        Assert.NotEqual(a.FoldsOf(ds), c.FoldsOf(ds));
    }

    [Fact]
    public void Fewer_groups_than_folds_is_a_typed_error()
    {
        var ds = DatasetLoader.Load(DatasetTestData.BreakHisRoot);
        var e = Assert.Throws<NotEnoughGroupsException>(() => GroupKFold.Split(ds, 9));
        Assert.Equal((8, 9), (e.GroupCount, e.FoldCount));
        Assert.Equal((HistoParameter.FoldCount, 8), (e.Parameter, e.MaxFolds)); // histo words it "--folds 8" (DatasetCliTests)
        Assert.Equal($"{e.Problem}; use 8 folds or fewer, or add data from more groups", e.Message);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
        Assert.Equal(8, GroupKFold.Split(ds, 8).FoldByPath.Values.Distinct().Count());
    }

    [Fact]
    public void Manifest_groups_never_straddle_folds()
    {
        string root = DatasetTestData.CopyIdcPatients(DatasetTestData.SmallPatients);
        var files = Directory.EnumerateFiles(root, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        // Groups that cut across patients: every third file shares a group.
        string csv = Path.Combine(root, "m.csv");
        File.WriteAllLines(csv, files.Select((f, i) => $"{Path.GetRelativePath(root, f)},{(f.Contains("class1", StringComparison.Ordinal) ? "1" : "0")},g{i % 3}"));
        var ds = DatasetLoader.Load(csv);
        Assert.Equal(3, ds.Groups.Count);
        var split = GroupKFold.Split(ds, 3, 5);
        int[] folds = split.FoldsOf(ds);
        for (int g = 0; g < 3; g++)
        {
            Assert.Single(ds.Items.Select((item, i) => (item, i)).Where(x => x.item.Group == $"csv:g{g}").Select(x => folds[x.i]).Distinct());
        }
    }

    [Fact]
    public void Split_saves_and_loads_and_refuses_another_dataset()
    {
        var ds = DatasetLoader.Load(DatasetTestData.BreakHisRoot);
        var split = GroupKFold.Split(ds, 4, 11);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "split.json");
        split.Save(path, ds);
        var loaded = CrossValidationSplit.Load(path);
        Assert.Equal((4, 11, true), (loaded.FoldCount, loaded.Seed, loaded.Grouped));
        Assert.Equal(split.FoldsOf(ds), loaded.FoldsOf(ds));
        Assert.Contains("\"group\": \"breakhis:14-22549AB\"", File.ReadAllText(path), StringComparison.Ordinal);

        var other = DatasetLoader.Load(DatasetTestData.BachRoot);
        var e = Assert.Throws<SplitFormatException>(() => loaded.FoldsOf(other));
        Assert.Contains("does not cover 4", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"format\": \"something-else\"}")]
    [InlineData("{\"format\": \"histo-cv-split\", \"version\": 99, \"folds\": 3, \"seed\": 1, \"items\": []}")]
    [InlineData("{\"format\": \"histo-cv-split\", \"version\": 1, \"folds\": 3, \"seed\": 1, \"items\": [{\"path\": \"a.png\", \"fold\": 3}]}")]
    [InlineData("{\"format\": \"histo-cv-split\", \"version\": 1, \"folds\": 3, \"seed\": 1}")]
    public void Malformed_split_files_are_typed_errors(string json) =>
        Assert.Throws<SplitFormatException>(() => CrossValidationSplit.FromJson(json, "split.json"));
}
