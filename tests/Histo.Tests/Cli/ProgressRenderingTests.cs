using System.Globalization;
using System.Text.RegularExpressions;
using Histo.Cli.Rendering;
using Histo.Cohorts;
using Histo.Inference;
using Spectre.Console.Testing;

namespace Histo.Tests.Cli;

/// <summary>The live progress of <c>histo slide</c> rendered by Spectre.Console on an 80-column test terminal.</summary>
public sealed partial class ProgressRenderingTests
{
    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", RegexOptions.CultureInvariant)]
    private static partial Regex AnsiSequence();

    [GeneratedRegex(@"([\d,]+(?:\.\d+)?) patches/s", RegexOptions.CultureInvariant)]
    private static partial Regex Rate();

    [Fact]
    public void Live_rows_fit_80_columns_with_one_eta_and_the_patch_stage_rate()
    {
        var console = new TestConsole().Width(80).Interactive().EmitAnsiSequences();
        double now = 0;
        const string name = "TCGA-CR-7395-01A-01-TS1.a-rather-long-slide-file-name-from-a-scanner";
        ProgressView.RunLive(console, new SlideProgressModel(() => now), progress =>
        {
            void At(double seconds, string stage, long done, long count)
            {
                now = seconds;
                progress.Report(new CohortProgress(1, 3, new SlideInferenceProgress(name, stage, done, count)));
            }

            At(0, "tissue", 0, 0);
            At(4, "patches", 0, 290);
            At(5, "patches", 100, 290);
            At(6.9, "patches", 290, 290);
            At(6.9000001, "writing", 290, 290); // outputs are written right after the last patch
            At(8, "writing", 290, 290);
            return 0;
        });

        var lines = AnsiSequence().Replace(console.Output, "").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        Assert.Contains(lines, l => l.Contains("writing outputs", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ETA", StringComparison.Ordinal));
        foreach (string line in lines)
        {
            Assert.True(line.Length <= 80, $"a row of {line.Length} columns wraps at 80: '{line}'");
            Assert.True(Regex.Matches(line, "ETA").Count <= 1, $"two ETAs in '{line}'");
            Assert.Contains("2/3 ", line, StringComparison.Ordinal); // every row names the slide, not a wrapped tail of one
            foreach (Match m in Rate().Matches(line))
            {
                double rate = double.Parse(m.Groups[1].Value, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                Assert.InRange(rate, 90, 110); // 290 patches in 2.9 s of the patch stage, whatever the stage shown
            }
        }
    }
}
