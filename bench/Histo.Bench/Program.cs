using System.Globalization;
using System.Text.Json;
using Histo.Bench;
using Histo.Bench.Infrastructure;

// Runs every benchmark (or those whose name contains one of the arguments), prints a table and writes
// bench/results.json. Use bench/run, which builds in Release and preloads tcmalloc.
if (args.Length > 0 && args[0] == ChildMode.Flag)
{
    return ChildMode.Run(args);
}

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
var environment = BenchEnvironment.Describe();
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .Where(b => filters.Length == 0 ? b.RunsByDefault : filters.Any(f => b.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();
var results = new List<BenchResult>();
var failures = new List<string>();
foreach (var benchmark in benchmarks)
{
    Console.Error.WriteLine($"running {benchmark.Name} ...");
    try
    {
        foreach (var r in benchmark.Run(context))
        {
            results.Add(r);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Name}: histo {Figure(r.Histo)} vs {r.BaselineName} {Figure(r.Baseline)} {r.Unit} -> {RatioText(r)}"));
        }
    }
    catch (Exception e)
    {
        failures.Add($"{benchmark.Name}: {e.Message}");
        Console.Error.WriteLine($"  {benchmark.Name} failed: {e.Message}");
    }
}

Console.WriteLine();
foreach (var (name, value) in environment)
{
    Console.WriteLine($"{name + ":",-30} {value}");
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"name",-34} {"histo",12} {"baseline",12} {"unit",-8} {"ratio",7}  baseline (conditions)"));
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Name,-34} {Figure(r.Histo),12} {Figure(r.Baseline),12} {r.Unit,-8} {RatioText(r),7}  {r.BaselineName}{(r.Notes.Length > 0 ? " (" + r.Notes + ")" : "")}"));
}

foreach (string failure in failures)
{
    Console.WriteLine($"FAILED {failure}");
}

if (filters.Length == 0 || results.Count > 0)
{
    string path = Path.Combine(repoRoot, "bench", "results.json");
    var existing = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path)) ?? [] : [];
    var merged = existing.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
    foreach (var r in results)
    {
        merged[r.Name] = new
        {
            histo = r.IsBaselineOnly ? (double?)null : r.Histo,
            baseline = r.Baseline,
            ratio = r.IsBaselineOnly ? (double?)null : r.Ratio,
            unit = r.Unit,
            baseline_name = r.BaselineName,
            lower_is_better = r.LowerIsBetter,
            notes = r.Notes,
        };
    }

    File.WriteAllText(path, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"wrote {path}");
}

return failures.Count == 0 ? 0 : 1;

static string Figure(double v) => double.IsNaN(v) ? "n/a" : v.ToString(v >= 100 ? "0.0" : "0.###", CultureInfo.InvariantCulture);

static string RatioText(BenchResult r) => r.IsBaselineOnly ? "n/a" : r.Ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Histo.slnx")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
