using Histo.Cli.Rendering;
using Histo.Datasets;
using Histo.Learning.Training;
using Histo.Patches;

namespace Histo.Tests.Cli;

/// <summary>
/// When stderr is not a terminal the progress view writes plain lines at each model's cadence: none in the first two
/// seconds (quick runs and early failures print only their result or their error), then one every 2 s for patches
/// and slides, every 5 s for dataset work, and for training every epoch plus one every 30 s in between.
/// </summary>
public sealed class PlainProgressTests
{
    /// <summary>The seconds, among <paramref name="times"/>, at which the model gives a line.</summary>
    private static List<double> LinesAt<T>(ProgressModel<T> model, T value, params double[] times) =>
        [.. times.Where(t => model.PlainLine(value, t) is not null)];

    [Fact]
    public void Patches_lines_start_after_two_seconds_then_come_every_two()
    {
        var report = new PatchProgress("A01-window", 0, 1, 10, 100, 4);
        Assert.Equal([2.0, 4.1, 6.2], LinesAt(new PatchProgressModel(), report, 0, 0.5, 1.99, 2.0, 3.0, 3.9, 4.1, 5.0, 6.2));
        string line = new PatchProgressModel().PlainLine(report, 2)!;
        Assert.StartsWith("slide 1/1 A01-window: 10/100 positions, 4 patches, ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Dataset_lines_start_after_two_seconds_then_come_every_five()
    {
        var report = new DatasetProgress("reading headers", 50, 200);
        Assert.Equal([2.5, 7.5, 13.0], LinesAt(new DatasetProgressModel(), report, 1, 2.5, 5, 7.4, 7.5, 12, 13));
        Assert.StartsWith("reading headers: 50/200 (", new DatasetProgressModel().PlainLine(report, 3), StringComparison.Ordinal);
    }

    [Fact]
    public void Training_lines_come_every_epoch_and_every_thirty_seconds_between()
    {
        var training = new TrainingProgress(TrainingStage.Training, 1, 2, 1, 3, 5, 40, 120, null, 0.7, null, 1L << 30);
        var done = training with { Stage = TrainingStage.EpochDone, Batch = 40, ValBalancedAccuracy = 0.8 };
        var model = new TrainingProgressModel();
        Assert.Null(model.PlainLine(training, 4));
        Assert.Equal("fold 1/2 epoch 1/3: 120 images/s, loss 0.700, RSS 1.00 GiB (batch 5/40)", model.PlainLine(training, 5));
        Assert.Null(model.PlainLine(training, 34));
        Assert.Equal("fold 1/2 epoch 1/3 done: 120 images/s, loss 0.700, val bal.acc 0.800, RSS 1.00 GiB", model.PlainLine(done, 36));
        Assert.Null(model.PlainLine(training, 65)); // an epoch's line restarts the 30 s
        Assert.NotNull(model.PlainLine(training, 66));
    }

    [Fact]
    public void A_quick_run_writes_no_plain_line()
    {
        using var output = new StringWriter();
        int result = ProgressView.RunPlain(output, new DatasetProgressModel(), progress =>
        {
            for (int i = 0; i <= 100; i++)
            {
                progress.Report(new DatasetProgress("loading", i, 100));
            }

            return 7;
        });
        Assert.Equal(7, result);
        Assert.Equal("", output.ToString());
    }
}
