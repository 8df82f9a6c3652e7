using System.Globalization;
using Histo.Learning.Training;

namespace Histo.Cli.Rendering;

/// <summary>
/// Progress of <c>histo train</c>: a row for preparing the images, then one per fold; as plain lines, every epoch's
/// result and a line every 30 s in between, so a slow epoch is visibly alive.
/// </summary>
internal sealed class TrainingProgressModel : ProgressModel<TrainingProgress>
{
    private double _nextLineSeconds = 5;

    /// <inheritdoc />
    public override string Row(TrainingProgress value) =>
        value.Stage == TrainingStage.Preparing ? "preparing" : value.Fold.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string RowTitle(TrainingProgress value) => value.Stage == TrainingStage.Preparing ? "preparing images" : value.PhaseName;

    /// <inheritdoc />
    public override bool NewRowStopsOthers => true;

    /// <inheritdoc />
    public override (double Done, double Total) Position(TrainingProgress value)
    {
        if (value.Stage == TrainingStage.Preparing)
        {
            return (value.Batch, value.BatchCount);
        }

        double fraction = value.BatchCount > 0 ? (double)value.Batch / value.BatchCount : 1;
        double epochs = value.Stage == TrainingStage.EpochDone
            ? value.Epoch
            : value.Epoch - 1 + (value.Stage == TrainingStage.Training ? fraction : 1);
        return (epochs, value.EpochCount);
    }

    /// <inheritdoc />
    public override bool Finishes(TrainingProgress value) => value.Stage == TrainingStage.EpochDone && value.Epoch == value.EpochCount;

    /// <inheritdoc />
    public override string Describe(TrainingProgress value, int width) => ProgressView.Fit(Describe(value), width);

    /// <inheritdoc />
    public override string? PlainLine(TrainingProgress value, double seconds)
    {
        if (value.Stage == TrainingStage.EpochDone)
        {
            _nextLineSeconds = seconds + 30;
            return Describe(value);
        }

        if (seconds < _nextLineSeconds)
        {
            return null;
        }

        _nextLineSeconds = seconds + 30;
        string batches = value.Stage == TrainingStage.Preparing ? "" : $" (batch {value.Batch}/{value.BatchCount})";
        return Describe(value) + batches;
    }

    /// <summary>One line describing a report.</summary>
    public static string Describe(TrainingProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        string eta = p.Eta is { } e ? $", ETA {(int)e.TotalMinutes}:{e.Seconds:00}" : "";
        string val = p.ValBalancedAccuracy is { } v ? string.Create(inv, $", val bal.acc {v:0.000}") : "";
        string loss = double.IsFinite(p.TrainLoss) ? string.Create(inv, $", loss {p.TrainLoss:0.000}") : "";
        string rss = string.Create(inv, $", RSS {p.ResidentBytes / (1024.0 * 1024 * 1024):0.00} GiB");
        return p.Stage switch
        {
            TrainingStage.Preparing => string.Create(inv, $"preparing images {p.Batch:N0}/{p.BatchCount:N0}{rss}"),
            TrainingStage.Validating => string.Create(inv, $"{p.PhaseName} epoch {p.Epoch}/{p.EpochCount} validating{eta}{rss}"),
            // ETA before the figures: a live row cut to the terminal's width keeps it.
            TrainingStage.EpochDone => string.Create(inv, $"{p.PhaseName} epoch {p.Epoch}/{p.EpochCount} done: {p.ImagesPerSecond:0} images/s{eta}{loss}{val}{rss}"),
            _ => string.Create(inv, $"{p.PhaseName} epoch {p.Epoch}/{p.EpochCount}: {p.ImagesPerSecond:0} images/s{eta}{loss}{val}{rss}"),
        };
    }
}
