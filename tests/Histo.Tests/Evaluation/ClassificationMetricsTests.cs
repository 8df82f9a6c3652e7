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

    private static readonly string[] Bach = ["Normal", "Benign", "InSitu", "Invasive"];

    /// <summary>A hand-made 4-class BACH confusion matrix, rows truth, columns predicted, 10 images per class.</summary>
    private static readonly int[][] BachConfusion =
    [
        [8, 1, 1, 0],
        [2, 6, 1, 1],
        [0, 1, 7, 2],
        [0, 0, 1, 9],
    ];

    [Fact]
    public void BachTableFourFiguresFromAHandMadeConfusionMatrix()
    {
        var m = ClassificationMetrics.FromConfusion(Bach, BachConfusion, [0, 1, 2, 3]);

        Assert.Equal(40, m.Count);
        Assert.Equal(30 / 40.0, m.Accuracy, 12);
        // sensitivity = diagonal / row: 8/10, 6/10, 7/10, 9/10
        Assert.Equal([0.8, 0.6, 0.7, 0.9], m.PerClass.Select(c => Math.Round(c.Sensitivity, 12)));
        // specificity = (30 others - false positives) / 30; false positives = column sum - diagonal: 2, 2, 3, 3
        Assert.Equal([28 / 30.0, 28 / 30.0, 27 / 30.0, 27 / 30.0], m.PerClass.Select(c => c.Specificity), new ToleranceComparer(1e-12));
        // precision = diagonal / column: 8/10, 6/8, 7/10, 9/12; F1 = 2PR/(P+R)
        Assert.Equal(0.75, m.PerClass[1].Precision, 12);
        Assert.Equal(2 * 0.75 * 0.6 / 1.35, m.PerClass[1].F1, 12);
        Assert.Equal(2 * 0.75 * 0.9 / 1.65, m.PerClass[3].F1, 12);
        Assert.Equal(0.75, m.BalancedAccuracy, 12);
        Assert.Equal([10, 10, 10, 10], m.PerClass.Select(c => c.Support));
        // binary: non-carcinoma rows predicted Normal/Benign 9 + 8, carcinoma rows predicted InSitu/Invasive 9 + 10
        Assert.Equal(36 / 40.0, m.BinaryAccuracy!.Value, 12);
        Assert.Equal(BachConfusion, m.Confusion);
        Assert.Null(m.Auc);

        var json = m.ToJson();
        Assert.Equal(0.9, (double)json["binary_accuracy"]!, 6);
        Assert.Equal(0.9, (double)json["per_class"]!["InSitu"]!["specificity"]!, 6);
        Assert.Equal(0.6, (double)json["per_class"]!["Benign"]!["sensitivity"]!, 6);
        Assert.Equal(2, (int)json["confusion"]!["matrix"]![1]![0]!);
    }

    [Fact]
    public void ComputeAndFromConfusionAgree()
    {
        var truth = new List<int>();
        var rows = new List<float[]>();
        for (int t = 0; t < 4; t++)
        {
            for (int p = 0; p < 4; p++)
            {
                for (int i = 0; i < BachConfusion[t][p]; i++)
                {
                    truth.Add(t);
                    rows.Add(OneHot(p, 4));
                }
            }
        }

        var computed = ClassificationMetrics.Compute(Bach, truth, rows, [0, 1, 2, 3]);
        var fromMatrix = ClassificationMetrics.FromConfusion(Bach, BachConfusion, [0, 1, 2, 3]);
        Assert.Equal(fromMatrix.Confusion, computed.Confusion);
        Assert.Equal(fromMatrix.PerClass, computed.PerClass);
        Assert.Equal(fromMatrix.BinaryAccuracy, computed.BinaryAccuracy);
        Assert.Equal(fromMatrix.Accuracy, computed.Accuracy);
    }

    [Fact]
    public void BinaryAccuracyNeedsClassesOnBothSidesOfCarcinoma()
    {
        int[][] twoByTwo = [[3, 1], [2, 4]];
        // Normal vs Benign: no carcinoma class, so no carcinoma-vs-not figure
        Assert.Null(ClassificationMetrics.FromConfusion(["Normal", "Benign"], twoByTwo, [0, 1]).BinaryAccuracy);
        Assert.Null(ClassificationMetrics.FromConfusion(["InSitu", "Invasive"], twoByTwo, [2, 3]).BinaryAccuracy);
        Assert.Null(ClassificationMetrics.FromConfusion(["a", "b"], twoByTwo).BinaryAccuracy);
        // Benign vs InSitu: binary = 4-class accuracy
        Assert.Equal(0.7, ClassificationMetrics.FromConfusion(["Benign", "InSitu"], twoByTwo, [1, 2]).BinaryAccuracy!.Value, 12);
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.FromConfusion(["a", "b"], twoByTwo, [0, 1, 2]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.FromConfusion(["a", "b"], twoByTwo, [0, 4]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.FromConfusion(["a", "b", "c"], twoByTwo));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.FromConfusion(["a", "b"], [[1, -1], [0, 1]]));
    }

    [Fact]
    public void ClassAbsentFromTheTruthHasNoSensitivityAndIsLeftOutOfTheMeans()
    {
        // Benign never occurs in the truth but is predicted once
        int[][] confusion = [[4, 1, 0], [0, 0, 0], [0, 0, 5]];
        var m = ClassificationMetrics.FromConfusion(["Normal", "Benign", "Invasive"], confusion, [0, 1, 3]);
        Assert.True(double.IsNaN(m.PerClass[1].Sensitivity));
        Assert.Equal(9 / 10.0, m.PerClass[1].Specificity, 12);
        Assert.Equal((0.8 + 1.0) / 2, m.BalancedAccuracy, 12);
        Assert.Equal(1.0, m.BinaryAccuracy!.Value, 12);
        Assert.Null(m.ToJson()["per_class"]!["Benign"]!["sensitivity"]);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
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
