using System.Globalization;
using System.Text.Json;
using Histo.Bench;

// Runs every benchmark (or those whose name contains one of the arguments), prints a table and writes
// bench/results.json. Use bench/run, which builds in Release and preloads tcmalloc.
string repoRoot = FindRepoRoot();
bool quick = args.Contains("--quick");
var filters = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var context = new BenchContext
{
    RepoRoot = repoRoot,
    CacheDir = Path.Combine(repoRoot, "bench", ".cache"),
    Quick = quick,
};
Directory.CreateDirectory(context.CacheDir);
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .Where(b => filters.Length == 0 || filters.Any(f => b.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();
var results = new List<BenchResult>();
foreach (var benchmark in benchmarks)
{
    Console.Error.WriteLine($"running {benchmark.Name} ...");
    try
    {
        foreach (var r in benchmark.Run(context))
        {
            results.Add(r);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Name}: histo {r.Histo:0.###} vs {r.BaselineName} {r.Baseline:0.###} {r.Unit} -> {r.Ratio:0.00}x"));
        }
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"  {benchmark.Name} failed: {e.Message}");
    }
}

Console.WriteLine();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"name",-34} {"histo",12} {"baseline",12} {"unit",-12} {"ratio",7}  baseline"));
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Name,-34} {r.Histo,12:0.###} {r.Baseline,12:0.###} {r.Unit,-12} {r.Ratio,6:0.00}x  {r.BaselineName}{(r.Notes.Length > 0 ? " (" + r.Notes + ")" : "")}"));
}

if (filters.Length == 0 || results.Count > 0)
{
    string path = Path.Combine(repoRoot, "bench", "results.json");
    var existing = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path)) ?? [] : [];
    var merged = existing.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
    foreach (var r in results)
    {
        merged[r.Name] = new { histo = r.Histo, baseline = r.Baseline, ratio = r.Ratio, unit = r.Unit, baseline_name = r.BaselineName, notes = r.Notes };
    }

    File.WriteAllText(path, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"wrote {path}");
}

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Histo.slnx")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
