namespace Histo.Tests;

/// <summary>Locates the repository and the shared test data (../shared/data beside the repository).</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Histo.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Histo.slnx) above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared data folder (../shared/data).</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>A file under ../shared/data.</summary>
    public static string Shared(params string[] parts) => Path.Combine([SharedData, .. parts]);

    /// <summary>A committed fixture under tests/Histo.Tests/Fixtures.</summary>
    public static string Fixture(string name) => Path.Combine(RepoRoot, "tests", "Histo.Tests", "Fixtures", name);

    public static string CmuSmall => Shared("slides", "cmu-1-small-region.svs");
    public static string Tcga => Shared("slides", "tcga-cr-7395-01a-01-ts1.svs");
    public static string TinySvs => Shared("slides", "small.svs");
    public static string BrokenSvs => Shared("slides", "negative", "broken.svs");
    public static string KidneyTif => Shared("slides", "negative", "kidney-48-5.tif");
    public static string A01Window => Shared("bach-a01", "A01-window.tif");
    public static string A01Labels => Shared("bach-a01", "A01-window-labels.png");

    /// <summary>A fresh empty directory under the system temp folder.</summary>
    public static string NewTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "histo-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
