using System.Text.Json;
using Histo.Tests.Learning;

namespace Histo.Tests.Cli;

/// <summary><c>histo doctor</c>: the machine report and the self-check of every inference engine, as a user runs it.</summary>
public sealed class DoctorCommandTests
{
    private static JsonElement[] Engines(CliRunner.Result result)
    {
        using JsonDocument doc = JsonDocument.Parse(result.StdOut);
        return [.. doc.RootElement.GetProperty("engines").EnumerateArray().Select(e => e.Clone())];
    }

    [Fact]
    public void Doctor_reports_the_machine_and_every_engine_passes_its_self_check()
    {
        CliRunner.Result result = CliRunner.Run("doctor", "--json");
        Assert.True(result.ExitCode == 0, result.StdErr + result.StdOut);
        using JsonDocument doc = JsonDocument.Parse(result.StdOut);
        Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("cpu").GetString()));
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openslide").GetString(), StringComparison.Ordinal);
        Assert.Equal("PASSIVE", doc.RootElement.GetProperty("omp_wait_policy").GetString());
        JsonElement[] engines = Engines(result);
        Assert.Equal(["plain-channels-last-fp32", "fused-fp32", "fused-bf16", "onnxruntime-fp32"], engines.Select(e => e.GetProperty("engine").GetString()));
        Assert.All(engines, e => Assert.True(e.GetProperty("passed").GetBoolean(), e.ToString()));
        // bf16 really ran in bf16: its features are not bit-identical to the fp32 reference.
        Assert.True(engines[2].GetProperty("max_relative_difference").GetDouble() > 0);
    }

    [Theory]
    [MemberData(nameof(OneDnnIsaCapTests.SupportedCaps), MemberType = typeof(OneDnnIsaCapTests))]
    public void Every_engine_passes_its_self_check_under_each_isa_cap(string cap)
    {
        CliRunner.Result result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(3), new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = cap }, "doctor", "--json");
        Assert.True(result.ExitCode == 0, $"ONEDNN_MAX_CPU_ISA={cap}: {result.StdErr}{result.StdOut}");
        using JsonDocument doc = JsonDocument.Parse(result.StdOut);
        Assert.Equal(cap, doc.RootElement.GetProperty("onednn_max_cpu_isa").GetString());
        Assert.All(Engines(result), e => Assert.True(e.GetProperty("passed").GetBoolean(), e.ToString()));
    }
}
