using ScottPlot;

namespace Histo.Learning.Reports;

/// <summary>The report figures, drawn with ScottPlot and saved as PNG.</summary>
public static class ReportPlots
{
    /// <summary>
    /// A confusion matrix (rows = truth, columns = prediction) as a heatmap of row-normalised shares, each cell
    /// labelled with its count and share.
    /// </summary>
    public static void SaveConfusion(string path, IReadOnlyList<string> labels, IReadOnlyList<int[]> matrix, string title)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(matrix);
        int k = labels.Count;
        var shares = new double[k, k];
        for (int r = 0; r < k; r++)
        {
            int total = matrix[r].Sum();
            for (int c = 0; c < k; c++)
            {
                shares[r, c] = total == 0 ? 0 : matrix[r][c] / (double)total;
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(shares);
        heatmap.Colormap = new LightToDark(new ScottPlot.Colormaps.Blues());
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Extent = new CoordinateRect(0, k - 1, 0, k - 1); // ScottPlot places the outer cells' centres on the extent: cell (r, c) is centred on (c, k - 1 - r)
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
            {
                // Row 0 of the data is drawn at the top.
                var text = plot.Add.Text(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{matrix[r][c]} ({shares[r, c]:P0})"), c, k - 1 - r);
                text.LabelFontSize = k <= 4 ? 16 : 11;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = shares[r, c] > 0.5 ? Colors.White : Colors.Black;
            }
        }

        double[] positions = [.. Enumerable.Range(0, k).Select(i => (double)i)];
        plot.Axes.Bottom.SetTicks(positions, [.. labels]);
        plot.Axes.Left.SetTicks([.. positions.Reverse()], [.. labels]);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.XLabel("predicted");
        plot.YLabel("truth");
        plot.Title(title);
        plot.Add.ColorBar(heatmap);
        int side = Math.Clamp(140 * k + 200, 480, 1200);
        plot.SavePng(path, side + 80, side);
    }

    /// <summary>Training curves: loss (train solid, validation dashed) and validation balanced accuracy per epoch, one colour per fold.</summary>
    public static void SaveCurves(string path, IReadOnlyList<HistoryRow> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        Plot loss = multiplot.GetPlot(0);
        Plot accuracy = multiplot.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();
        string[] folds = [.. history.Select(h => h.Fold).Distinct(StringComparer.Ordinal)];
        for (int i = 0; i < folds.Length; i++)
        {
            HistoryRow[] rows = [.. history.Where(h => h.Fold == folds[i]).OrderBy(h => h.Epoch)];
            string name = folds[i] == "final" ? "final" : $"fold {folds[i]}";
            var color = palette.GetColor(i);
            double[] epochs = [.. rows.Select(r => (double)r.Epoch)];
            var train = loss.Add.Scatter(epochs, rows.Select(r => r.TrainLoss).ToArray());
            train.LegendText = $"{name} train";
            train.Color = color;
            HistoryRow[] validated = [.. rows.Where(r => r.ValLoss is not null)];
            if (validated.Length > 0)
            {
                var val = loss.Add.Scatter(validated.Select(r => (double)r.Epoch).ToArray(), validated.Select(r => r.ValLoss!.Value).ToArray());
                val.LegendText = $"{name} validation";
                val.Color = color;
                val.LinePattern = LinePattern.Dashed;
            }

            HistoryRow[] scored = [.. rows.Where(r => r.ValBalancedAccuracy is not null)];
            if (scored.Length > 0)
            {
                var acc = accuracy.Add.Scatter(scored.Select(r => (double)r.Epoch).ToArray(), scored.Select(r => r.ValBalancedAccuracy!.Value).ToArray());
                acc.LegendText = name;
                acc.Color = color;
            }
        }

        loss.Title("loss");
        loss.XLabel("epoch");
        loss.YLabel("cross-entropy");
        loss.ShowLegend();
        accuracy.Title("validation balanced accuracy");
        accuracy.XLabel("epoch");
        accuracy.YLabel("balanced accuracy");
        accuracy.Axes.SetLimitsY(0, 1);
        accuracy.ShowLegend();
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 1200, 480);
    }

    /// <summary>A colormap read backwards, so that a share of 0 is light and 1 is dark.</summary>
    private sealed class LightToDark(IColormap inner) : IColormap
    {
        public string Name => inner.Name + " (reversed)";

        public ScottPlot.Color GetColor(double position) => inner.GetColor(1 - position);
    }
}
