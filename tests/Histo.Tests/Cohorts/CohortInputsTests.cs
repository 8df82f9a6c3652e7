using Histo.Cohorts;

namespace Histo.Tests.Cohorts;

public class CohortInputsTests
{
    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    public void Shard_parses(string text, int index, int count) => Assert.Equal(new Shard(index, count), Shard.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void Bad_shards_are_rejected(string text) => Assert.Throws<InvalidParameterException>(() => Shard.Parse(text));

    [Fact]
    public void Shards_partition_a_folder_cohort_and_lists_resolve_relative_paths()
    {
        string dir = TestPaths.NewTempDirectory();
        foreach (string name in new[] { "c.svs", "a.svs", "b.tif", "d.png", "notes.txt", "e.svs" })
        {
            File.WriteAllText(Path.Combine(dir, name), "x");
        }

        string[] all = CohortInputs.Expand(dir, Shard.All).Select(p => Path.GetFileName(p)).ToArray();
        Assert.Equal(["a.svs", "b.tif", "c.svs", "d.png", "e.svs"], all);
        var shards = Enumerable.Range(0, 3).SelectMany(i => CohortInputs.Expand(dir, new Shard(i, 3))).Select(p => Path.GetFileName(p)).ToList();
        Assert.Equal(all.Order(), shards.Order());
        Assert.Equal(all.Length, shards.Distinct().Count());

        string list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, ["# cohort", "a.svs", "", "c.svs"]);
        Assert.Equal([Path.Combine(dir, "a.svs"), Path.Combine(dir, "c.svs")], CohortInputs.Expand(list, Shard.All));
    }

    [Fact]
    public void Empty_folder_missing_input_and_clashing_names_are_errors()
    {
        string dir = TestPaths.NewTempDirectory();
        Assert.Throws<HistoException>(() => CohortInputs.Expand(dir, Shard.All));
        Assert.Throws<HistoException>(() => CohortInputs.Expand(Path.Combine(dir, "missing.svs"), Shard.All));
        File.WriteAllText(Path.Combine(dir, "a.svs"), "x");
        File.WriteAllText(Path.Combine(dir, "a.tif"), "x");
        Assert.Throws<HistoException>(() => CohortInputs.Expand(dir, Shard.All));
    }
}
