using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using Xunit.Abstractions;

namespace Histo.Tests.Learning;

/// <summary>
/// The engine comparisons (TorchSharp fp32 NCHW and channels-last, fused, bf16, against the plain network and ONNX
/// Runtime) rerun in a child test process under each instruction-set cap of oneDNN that this CPU supports. oneDNN picks
/// a different kernel family per cap (AVX2, AVX-512, AVX-512 + BF16), and a wrong kernel on one of them (oneDNN 3.7.1's
/// channels-last 1 x 1 convolution on VMs with an empty CPUID cache leaf) must fail here whichever CPU CI runs on.
/// The cap has to be in the environment before oneDNN's first primitive, hence a child process.
/// </summary>
public sealed class OneDnnIsaCapTests(ITestOutputHelper output)
{
    private const string EngineTests =
        "FullyQualifiedName~ResNet18OnnxImporterTests.PooledFeaturesMatchOnnxRuntimeOnRealImages"
        + "|FullyQualifiedName~InferenceEngineTests.FusedAndOnnxRuntimeEnginesEqualThePlainNetworkOnRealImages"
        + "|FullyQualifiedName~InferenceEngineTests.Bf16EngineStaysCloseToFp32AndKeepsTheFeatureDirection";

    /// <summary>The oneDNN ISA caps this CPU can run (the uncapped default runs in the main test process).</summary>
    public static TheoryData<string> SupportedCaps()
    {
        var caps = new TheoryData<string>();
        if (Avx2.IsSupported)
        {
            caps.Add("AVX2");
        }

        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported)
        {
            caps.Add("AVX512_CORE");
            string flags = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
            if (flags.Contains(" avx512_bf16", StringComparison.Ordinal))
            {
                caps.Add("AVX512_CORE_BF16");
            }
        }

        return caps;
    }

    [Theory]
    [MemberData(nameof(SupportedCaps))]
    public void EveryEngineAgreesWithOnnxRuntimeUnderTheIsaCap(string cap)
    {
        string testAssembly = typeof(OneDnnIsaCapTests).Assembly.Location;
        string results = TestPaths.NewTempDirectory();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "test", testAssembly, "--nologo", "--filter", EngineTests, "--results-directory", results, "--logger", "console;verbosity=normal" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ONEDNN_MAX_CPU_ISA"] = cap;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet test");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "the child test run did not finish in 5 minutes");
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);

        Assert.True(process.ExitCode == 0, $"engine comparisons failed under ONEDNN_MAX_CPU_ISA={cap} (exit {process.ExitCode}):\n{stdout}");
        // 2 importer cases + 4 engine cases + 1 bf16 case: a filter that matched nothing must not pass.
        int passed = stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("Passed Histo.Tests.", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).Count();
        Assert.True(passed >= 7, $"only {passed} engine comparisons ran under ONEDNN_MAX_CPU_ISA={cap}:\n{stdout}");
    }
}
