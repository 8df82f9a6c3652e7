using System.Globalization;
using Histo.Evaluation;
using Spectre.Console;

namespace Histo.Cli.Commands;

/// <summary>The tables <c>train</c> and <c>evaluate</c> print for a set of metrics.</summary>
internal static class MetricsTables
{
    /// <summary>
    /// Per class: sensitivity and specificity (one class vs the rest, as in the BACH paper's Table 4), precision, F1
    /// and the support (images of the class).
    /// </summary>
    public static Table PerClass(ClassificationMetrics metrics)
    {
        var table = new Table().AddColumns("class", "sensitivity", "specificity", "precision", "F1", "support");
        for (int c = 0; c < metrics.Labels.Count; c++)
        {
            ClassMetrics k = metrics.PerClass[c];
            table.AddRow(Terminal.Markup(metrics.Labels[c]), F(k.Sensitivity), F(k.Specificity), F(k.Precision), F(k.F1), k.Support.ToString("N0", CultureInfo.InvariantCulture));
        }

        return table;
    }

    /// <summary>The confusion matrix: one row per true class, one column per predicted class.</summary>
    public static Table Confusion(ClassificationMetrics metrics)
    {
        var table = new Table().AddColumn("truth / predicted");
        foreach (string label in metrics.Labels)
        {
            table.AddColumn(Terminal.Markup(label));
        }

        for (int r = 0; r < metrics.Labels.Count; r++)
        {
            table.AddRow([Terminal.Markup(metrics.Labels[r]), .. metrics.Confusion[r].Select(v => v.ToString("N0", CultureInfo.InvariantCulture))]);
        }

        return table;
    }

    /// <summary>A metric with four decimals, or n/a.</summary>
    public static string F(double value) => double.IsFinite(value) ? value.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Mean ± sample standard deviation of the finite values, or n/a.</summary>
    public static string MeanSd(IEnumerable<double> values)
    {
        double[] v = [.. values.Where(double.IsFinite)];
        if (v.Length == 0)
        {
            return "n/a";
        }

        double mean = v.Average();
        double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return $"{F(mean)} ± {F(sd)}";
    }
}
