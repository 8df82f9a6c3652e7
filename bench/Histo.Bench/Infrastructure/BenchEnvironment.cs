using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Histo.Bench.Baselines;

namespace Histo.Bench.Infrastructure;

/// <summary>The machine and the version of every baseline, printed above the results table.</summary>
public static class BenchEnvironment
{
    /// <summary>Name/value lines: machine first, then the baselines' versions.</summary>
    public static IReadOnlyList<(string Name, string Value)> Describe()
    {
        var lines = new List<(string, string)>
        {
            ("cpu", $"{CpuModel()} ({Environment.ProcessorCount} cores{CpuFeatures()})"),
            ("memory", MemoryTotal()),
            ("os", $"{OsName()}, kernel {Environment.OSVersion.Version}"),
            ("load average at start", LoadAverage()),
            (".NET", RuntimeInformation.FrameworkDescription),
            ("libopenslide (Histo and raw)", Try(() => RawOpenSlide.LibraryVersion)),
            ("python3-openslide", PythonBaseline.Eval("import openslide,sys; print(openslide.__version__, '(libopenslide', openslide.__library_version__ + ', python', sys.version.split()[0] + ')')") ?? "not installed"),
            ("python3-torch", PythonBaseline.Eval("import torch,torchvision; print(torch.__version__, '(torchvision', torchvision.__version__ + ')')") ?? "not installed"),
            ("onnxruntime", Try(() => $"{OnnxRuntimeBaseline.Version} (NuGet Microsoft.ML.OnnxRuntime, CPU provider)")),
            ("libvips (large slide)", Run("vips", "--version") ?? "not installed"),
            ("allocator", Environment.GetEnvironmentVariable("LD_PRELOAD") is { Length: > 0 } p ? $"LD_PRELOAD={p} (all processes, baselines too)" : "default"),
        };
        return lines;
    }

    private static string CpuModel() =>
        ReadField("/proc/cpuinfo", "model name", ':') ?? RuntimeInformation.ProcessArchitecture.ToString();

    private static string CpuFeatures()
    {
        string flags = " " + (ReadField("/proc/cpuinfo", "flags", ':') ?? string.Empty) + " ";
        var wanted = new[] { "avx2", "avx512f", "avx512_bf16", "amx_bf16" }.Where(f => flags.Contains(" " + f + " ", StringComparison.Ordinal)).ToList();
        return wanted.Count > 0 ? ", " + string.Join(" ", wanted) : string.Empty;
    }

    private static string MemoryTotal()
    {
        string? kb = ReadField("/proc/meminfo", "MemTotal", ':');
        return kb != null && long.TryParse(kb.Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)
            ? string.Create(CultureInfo.InvariantCulture, $"{v / 1024.0 / 1024.0:0.0} GiB")
            : "unknown";
    }

    private static string OsName() => ReadField("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription;

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (the machine is shared: compare ratios, not absolute figures)";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string? ReadField(string file, string key, char separator)
    {
        try
        {
            foreach (string line in File.ReadLines(file))
            {
                int i = line.IndexOf(separator, StringComparison.Ordinal);
                if (i > 0 && line[..i].Trim() == key)
                {
                    return line[(i + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static string Try(Func<string> get)
    {
        try
        {
            return get();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or FileNotFoundException)
        {
            return "not available (" + e.Message + ")";
        }
    }

    private static string? Run(string file, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            string? output = p?.StandardOutput.ReadToEnd().Trim();
            p?.WaitForExit();
            return string.IsNullOrEmpty(output) ? null : output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
