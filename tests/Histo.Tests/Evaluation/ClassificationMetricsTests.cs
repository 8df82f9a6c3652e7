using Histo.Evaluation;

namespace Histo.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    private static float[] OneHot(int index, int classes, float p = 0.9f)
    {
        var row = new float[classes];
        Array.Fill(row, (1 - p) / (classes - 1));
        row[index] = p;
        return row;
    }

    [Fact]
    public void HandComputedThreeClassExample()
    {
        // truth:     0 0 0 0 1 1 2 2 2 2
        // predicted: 0 0 1 2 1 1 2 2 2 0
        int[] truth = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
        int[] predicted = [0, 0, 1, 2, 1, 1, 2, 2, 2, 0];
        var metrics = ClassificationMetrics.Compute(["a", "b", "c"], truth, [.. predicted.Select(p => OneHot(p, 3))]);

        Assert.Equal(7 / 10.0, metrics.Accuracy, 12);
        Assert.Equal([2, 1, 1], metrics.Confusion[0]);
        Assert.Equal([0, 2, 0], metrics.Confusion[1]);
        Assert.Equal([1, 0, 3], metrics.Confusion[2]);
        // sensitivities 2/4, 2/2, 3/4
        Assert.Equal((0.5 + 1 + 0.75) / 3, metrics.BalancedAccuracy, 12);
        // precision a = 2/3, b = 2/3, c = 3/4; F1 a = 2*(2/3*1/2)/(2/3+1/2) = 4/7, b = 0.8, c = 0.75
        Assert.Equal(4 / 7.0, metrics.PerClass[0].F1, 12);
        Assert.Equal(0.8, metrics.PerClass[1].F1, 12);
        Assert.Equal(0.75, metrics.PerClass[2].F1, 12);
        Assert.Equal((4 / 7.0 + 0.8 + 0.75) / 3, metrics.MacroF1, 12);
        // specificity of a: negatives 6, false positives 1
        Assert.Equal(5 / 6.0, metrics.PerClass[0].Specificity, 12);
        Assert.Null(metrics.Auc);
        Assert.Null(metrics.BinaryAccuracy);
    }

    [Fact]
    public void BinaryAccuracyGroupsInSituWithInvasive()
    {
        // Normal, Benign, InSitu, Invasive; InSitu predicted as Invasive is still carcinoma.
        int[] truth = [0, 1, 2, 3];
        int[] predicted = [1, 0, 3, 1];
        var metrics = ClassificationMetrics.Compute(["Normal", "Benign", "InSitu", "Invasive"], truth,
            [.. predicted.Select(p => OneHot(p, 4))], [0, 1, 2, 3]);
        Assert.Equal(0, metrics.Accuracy);
        Assert.Equal(0.75, metrics.BinaryAccuracy);
    }

    [Fact]
    public void AucCountsTiesAsHalf()
    {
        // positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4, 0.4>0.1) = 3.5 / 4
        double auc = ClassificationMetrics.RocAuc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]);
        Assert.Equal(0.875, auc, 12);
        var metrics = ClassificationMetrics.Compute(["0", "1"], [1, 1, 0, 0],
            [[0.2f, 0.8f], [0.6f, 0.4f], [0.6f, 0.4f], [0.9f, 0.1f]]);
        Assert.Equal(0.875, metrics.Auc!.Value, 6);
        var json = metrics.ToJson();
        Assert.Equal(0.875, (double)json["auc"]!, 6);
        Assert.Equal(2, (int)json["per_class"]!["1"]!["support"]!);
        Assert.Equal(1, (int)json["confusion"]!["matrix"]![1]![0]!);
    }

    [Fact]
    public void BootstrapIntervalBracketsTheStatisticAndIsSeeded()
    {
        double[] values = [.. Enumerable.Range(0, 200).Select(i => i % 10 < 7 ? 1.0 : 0.0)];
        double Mean(IReadOnlyList<int> idx) => idx.Average(i => values[i]);
        var a = Bootstrap.Interval(values.Length, Mean, 500, 0.95, seed: 3);
        var b = Bootstrap.Interval(values.Length, Mean, 500, 0.95, seed: 3);
        Assert.Equal(a, b);
        Assert.InRange(0.7, a.Low, a.High);
        Assert.True(a.High - a.Low is > 0.05 and < 0.2, $"{a}");
    }
}
