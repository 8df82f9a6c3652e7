using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Learning;
using Histo.Learning.Models;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo doctor [--json]</c>: what a user pastes into a bug report — CPU, oneDNN settings, threads, allocator,
/// library versions, and the self-check of every inference path against the NCHW fp32 reference.
/// Exit 1 when a path fails its self-check.
/// </summary>
public sealed class DoctorCommand : Command<DoctorCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandOption("--json")]
        [Description("Print one JSON object.")]
        public bool Json { get; set; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var facts = new List<(string Name, string Value)>
        {
            ("cpu", CpuModel()),
            ("cpu_flags", string.Join(' ', CpuFlags().Where(f => f.StartsWith("avx", StringComparison.Ordinal) || f is "fma" or "amx_bf16" or "topoext"))),
            ("empty_cache_topology_leaf", EngineSelfCheck.HasEmptyCacheTopologyLeaf() ? "yes (oneDNN 3.7.1 channels-last 1x1 convolutions are wrong here; Histo runs them in NCHW)" : "no"),
            ("onednn_max_cpu_isa", Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "default (the CPU's best)"),
            ("cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
            ("torch_threads", torch.get_num_threads().ToString(CultureInfo.InvariantCulture)),
            ("omp_wait_policy", TorchThreading.CurrentWaitPolicy() ?? "unset"),
            ("ld_preload", Environment.GetEnvironmentVariable("LD_PRELOAD") is { Length: > 0 } preload ? preload : "unset (tcmalloc roughly doubles TorchSharp throughput)"),
            ("openslide", OpenSlideSlide.LibraryVersion),
            ("dotnet", Environment.Version.ToString()),
            ("histo", typeof(DoctorCommand).Assembly.GetName().Version?.ToString(3) ?? "unknown"),
        };
        IReadOnlyList<EngineCheckResult> checks;
        using (ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 0))
        {
            checks = EngineSelfCheck.Run(network);
        }

        if (settings.Json)
        {
            var json = new Dictionary<string, object>();
            foreach ((string name, string value) in facts)
            {
                json[name] = value;
            }

            json["engines"] = checks.Select(c => new Dictionary<string, object>
            {
                ["engine"] = c.Engine,
                ["max_relative_difference"] = c.MaxRelativeDifference,
                ["tolerance"] = c.Tolerance,
                ["passed"] = c.Passed,
            }).ToList();
            JsonOutput.Write(json);
        }
        else
        {
            var grid = new Grid().AddColumn().AddColumn();
            foreach ((string name, string value) in facts)
            {
                grid.AddRow($"[bold]{Terminal.Markup(name)}[/]", Terminal.Markup(value));
            }

            AnsiConsole.Write(grid);
            var table = new Table().AddColumns("engine", "max rel. difference vs NCHW fp32", "tolerance", "self-check");
            foreach (EngineCheckResult c in checks)
            {
                table.AddRow(c.Engine, c.MaxRelativeDifference.ToString("0.0e0", CultureInfo.InvariantCulture),
                    c.Tolerance.ToString("0.0e0", CultureInfo.InvariantCulture), c.Passed ? "passed" : "[red]FAILED[/]");
            }

            AnsiConsole.Write(table);
        }

        foreach (EngineCheckResult c in checks.Where(c => !c.Passed))
        {
            Terminal.ErrorLine($"error: the {c.Engine} engine computes wrong features on this machine (relative difference {c.MaxRelativeDifference:0.###} > {c.Tolerance}); please report this output");
        }

        return checks.All(c => c.Passed) ? 0 : 1;
    }

    private static string CpuModel() =>
        CpuInfoLines().FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    private static IEnumerable<string> CpuFlags() =>
        CpuInfoLines().FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static string[] CpuInfoLines() => File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
}
