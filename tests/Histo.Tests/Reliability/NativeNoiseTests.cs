using Histo.Learning;
using Histo.Learning.Models;
using Histo.Tests.Cli;
using Histo.Tests.Inference;

namespace Histo.Tests.Reliability;

/// <summary>
/// libtorch's warnings stay off stderr (issue 17, class 8). NNPACK's "Could not initialize NNPACK! Reason:
/// Unsupported hardware." only appears on CPUs NNPACK does not support, so these tests make libtorch warn another way
/// that goes through the same c10 logging: an invalid <c>ATEN_CPU_CAPABILITY</c>, which libtorch reports with
/// <c>[W… DispatchStub.cpp] Warning: ignoring invalid value for ATEN_CPU_CAPABILITY</c> at its first operator.
/// </summary>
public sealed class NativeNoiseTests
{
    private static readonly Dictionary<string, string> WarningEnvironment = new() { ["ATEN_CPU_CAPABILITY"] = "bogus" };

    [Fact]
    public void Model_commands_print_no_libtorch_warning_on_stderr()
    {
        string image = TestPaths.Shared("microscopy", "bach", "Normal", "normal.png");
        string bach = TestPaths.Shared("microscopy", "bach");
        string work = TestPaths.NewTempDirectory();
        foreach (string[] args in new[]
                 {
                     new[] { "predict", SlideTestModel.Directory, image, "--json" },
                     new[] { "embed", SlideTestModel.Directory, bach, "-o", Path.Combine(work, "f.npy") },
                     new[] { "evaluate", SlideTestModel.Directory, bach, "--json" },
                     new[] { "slide", SlideTestModel.Directory, TestPaths.TinySvs, "-o", Path.Combine(work, "slides"), "--threads", "2" },
                     new[] { "train", TinyIdc(Path.Combine(work, "idc")), "-o", Path.Combine(work, "model"), "--folds", "2", "--epochs", "1", "--batch", "8" },
                 })
        {
            var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(3), WarningEnvironment, args);
            Assert.True(result.ExitCode == 0, $"histo {args[0]}: {result.StdErr}");
            Assert.False(result.StdErr.Contains("[W", StringComparison.Ordinal), $"histo {args[0]} let a libtorch warning through: {result.StdErr}");
            Assert.DoesNotContain("ATEN_CPU_CAPABILITY", result.StdErr, StringComparison.Ordinal);
        }
    }

    /// <summary>Five patches of each class from each of four IDC patients: a training run of seconds.</summary>
    private static string TinyIdc(string root)
    {
        foreach (string patient in Directory.GetDirectories(TestPaths.Shared("idc")).Order(StringComparer.Ordinal).Take(4))
        {
            foreach (string label in new[] { "0", "1" })
            {
                string to = Path.Combine(root, Path.GetFileName(patient), label);
                Directory.CreateDirectory(to);
                foreach (string file in Directory.GetFiles(Path.Combine(patient, label)).Order(StringComparer.Ordinal).Take(5))
                {
                    File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
                }
            }
        }

        return root;
    }

    [Fact]
    public void Creating_a_network_raises_libtorch_log_threshold_to_errors()
    {
        using var network = new ResNet18Variant(2);
        Assert.True(TorchDiagnostics.LogLevel() >= TorchDiagnostics.ErrorSeverity, $"c10 log level {TorchDiagnostics.LogLevel()}");
    }
}
