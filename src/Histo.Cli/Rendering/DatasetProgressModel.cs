using System.Diagnostics;
using System.Globalization;
using Histo.Datasets;

namespace Histo.Cli.Rendering;

/// <summary>
/// Progress of dataset work (loading, verifying, predicting, evaluating): a row per stage with images/s and an ETA,
/// cleared when done; as plain lines, the first after two seconds, then one every five.
/// </summary>
internal sealed class DatasetProgressModel : ProgressModel<DatasetProgress>
{
    private readonly Dictionary<string, Stopwatch> _stageClocks = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override double LineEverySeconds => 5;

    /// <inheritdoc />
    public override bool KeepRows => false;

    /// <inheritdoc />
    public override string Row(DatasetProgress value) => value.Stage;

    /// <inheritdoc />
    public override (double Done, double Total) Position(DatasetProgress value) => (value.Done, value.Total);

    /// <inheritdoc />
    public override bool Finishes(DatasetProgress value) => value.Done >= value.Total;

    /// <inheritdoc />
    public override string Describe(DatasetProgress value, int width)
    {
        if (!_stageClocks.TryGetValue(value.Stage, out var clock))
        {
            _stageClocks[value.Stage] = clock = Stopwatch.StartNew();
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? value.Done / seconds : 0;
        string eta = rate > 0 && value.Done < value.Total ? string.Create(CultureInfo.InvariantCulture, $", ETA {(value.Total - value.Done) / rate:0} s") : "";
        return ProgressView.Fit(string.Create(CultureInfo.InvariantCulture, $"{value.Stage}: {value.Done:N0}/{value.Total:N0} ({rate:N0} images/s{eta})"), width);
    }
}
