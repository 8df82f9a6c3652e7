using System.Text.Json.Nodes;

namespace Histo.Evaluation;

/// <summary>One class's one-vs-rest figures.</summary>
/// <param name="Sensitivity">Recall: true positives / items of the class (NaN when the class has no items).</param>
/// <param name="Specificity">True negatives / items of the other classes (NaN when there are none).</param>
/// <param name="Precision">True positives / items predicted as the class (0 when none are).</param>
/// <param name="F1">Harmonic mean of precision and sensitivity (0 when both are 0).</param>
/// <param name="Support">Items of the class in the truth.</param>
public sealed record ClassMetrics(double Sensitivity, double Specificity, double Precision, double F1, int Support);

/// <summary>
/// Classification metrics from true class indices and predicted probabilities: accuracy, balanced accuracy (mean
/// sensitivity over classes present in the truth), macro F1 (over the same classes), per-class figures, the
/// confusion matrix (rows = truth, columns = prediction), binary carcinoma-vs-not accuracy when BACH codes are known
/// (codes 2 and 3 are carcinoma), and the ROC AUC when there are two classes (class 1 is positive). Per-class
/// sensitivity and specificity with the 4-class and binary accuracy are the figures of the BACH paper's Table 4
/// (Aresta et al. 2019).
/// </summary>
public sealed class ClassificationMetrics
{
    private ClassificationMetrics(IReadOnlyList<string> labels, int[][] confusion)
    {
        Labels = labels;
        Confusion = confusion;
    }

    /// <summary>Class names, in index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Confusion counts: <c>Confusion[truth][predicted]</c>.</summary>
    public IReadOnlyList<int[]> Confusion { get; }

    /// <summary>Number of items.</summary>
    public int Count { get; private init; }

    /// <summary>Fraction of items predicted correctly.</summary>
    public double Accuracy { get; private init; }

    /// <summary>Mean sensitivity over the classes present in the truth.</summary>
    public double BalancedAccuracy { get; private init; }

    /// <summary>Mean F1 over the classes present in the truth.</summary>
    public double MacroF1 { get; private init; }

    /// <summary>
    /// Carcinoma (BACH codes 2 InSitu and 3 Invasive) vs not (0 Normal, 1 Benign) accuracy, when BACH codes were given
    /// and put classes on both sides; else null.
    /// </summary>
    public double? BinaryAccuracy { get; private init; }

    /// <summary>ROC AUC of class 1's probability, for two classes with both present; else null.</summary>
    public double? Auc { get; private init; }

    /// <summary>Per-class figures, in label order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; private init; } = [];

    /// <summary>Computes the metrics; the prediction is the arg-max of each probability row.</summary>
    /// <param name="labels">Class names.</param>
    /// <param name="truth">True class index per item.</param>
    /// <param name="probabilities">One probability row per item, one column per class.</param>
    /// <param name="bachCodes">BACH code per class (0..3) for the binary accuracy, or null.</param>
    public static ClassificationMetrics Compute(
        IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<float[]> probabilities, IReadOnlyList<int>? bachCodes = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (truth.Count != probabilities.Count)
        {
            throw new ArgumentException($"{truth.Count} truths but {probabilities.Count} probability rows", nameof(probabilities));
        }

        int k = labels.Count;
        var confusion = new int[k][];
        for (int c = 0; c < k; c++)
        {
            confusion[c] = new int[k];
        }

        for (int i = 0; i < truth.Count; i++)
        {
            if (probabilities[i].Length != k)
            {
                throw new ArgumentException($"row {i} has {probabilities[i].Length} probabilities for {k} classes", nameof(probabilities));
            }

            if ((uint)truth[i] >= (uint)k)
            {
                throw new ArgumentOutOfRangeException(nameof(truth), truth[i], $"class index outside 0..{k - 1}");
            }

            confusion[truth[i]][ArgMax(probabilities[i])]++;
        }

        double? auc = k == 2 && confusion[0].Sum() > 0 && confusion[1].Sum() > 0
            ? RocAuc(truth, probabilities.Select(p => (double)p[1]).ToArray())
            : null;
        return Build(labels, confusion, bachCodes, auc);
    }

    /// <summary>
    /// The metrics of a confusion matrix (<c>confusion[truth][predicted]</c>, counts): everything but the AUC, which
    /// needs the scores.
    /// </summary>
    /// <param name="labels">Class names.</param>
    /// <param name="confusion">One row per true class, one count per predicted class.</param>
    /// <param name="bachCodes">
    /// BACH code per class (0 Normal, 1 Benign, 2 InSitu, 3 Invasive), or null. The binary accuracy (carcinoma, codes
    /// 2 and 3, vs not) is computed only when the codes put classes on both sides.
    /// </param>
    public static ClassificationMetrics FromConfusion(IReadOnlyList<string> labels, IReadOnlyList<int[]> confusion, IReadOnlyList<int>? bachCodes = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(confusion);
        int k = labels.Count;
        if (confusion.Count != k || confusion.Any(row => row is null || row.Length != k))
        {
            throw new ArgumentException($"the confusion matrix must be {k} x {k} for {k} classes", nameof(confusion));
        }

        if (confusion.Any(row => row.Any(v => v < 0)))
        {
            throw new ArgumentException("confusion counts must not be negative", nameof(confusion));
        }

        return Build(labels, [.. confusion.Select(row => row.ToArray())], bachCodes, null);
    }

    private static ClassificationMetrics Build(IReadOnlyList<string> labels, int[][] counts, IReadOnlyList<int>? bachCodes, double? auc)
    {
        int k = labels.Count;
        if (bachCodes is not null && (bachCodes.Count != k || bachCodes.Any(c => c is < 0 or > 3)))
        {
            throw new ArgumentException($"BACH codes must be one code 0..3 per class ({k}), got [{string.Join(", ", bachCodes)}]", nameof(bachCodes));
        }

        int n = counts.Sum(row => row.Sum());
        int correct = Enumerable.Range(0, k).Sum(c => counts[c][c]);
        var perClass = new ClassMetrics[k];
        for (int c = 0; c < k; c++)
        {
            int tp = counts[c][c];
            int support = counts[c].Sum();
            int predictedCount = Enumerable.Range(0, k).Sum(r => counts[r][c]);
            int fp = predictedCount - tp;
            int negatives = n - support;
            double sensitivity = support == 0 ? double.NaN : (double)tp / support;
            double specificity = negatives == 0 ? double.NaN : (double)(negatives - fp) / negatives;
            double precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(sensitivity, specificity, precision, f1, support);
        }

        ClassMetrics[] present = [.. perClass.Where(m => m.Support > 0)];
        double? binary = null;
        if (bachCodes is not null && bachCodes.Any(IsCarcinoma) && !bachCodes.All(IsCarcinoma))
        {
            int agree = 0;
            for (int t = 0; t < k; t++)
            {
                for (int p = 0; p < k; p++)
                {
                    agree += IsCarcinoma(bachCodes[t]) == IsCarcinoma(bachCodes[p]) ? counts[t][p] : 0;
                }
            }

            binary = n == 0 ? double.NaN : (double)agree / n;
        }

        return new ClassificationMetrics(labels, counts)
        {
            Count = n,
            Accuracy = n == 0 ? double.NaN : (double)correct / n,
            BalancedAccuracy = present.Length == 0 ? double.NaN : present.Average(m => m.Sensitivity),
            MacroF1 = present.Length == 0 ? double.NaN : present.Average(m => m.F1),
            BinaryAccuracy = binary,
            Auc = auc,
            PerClass = perClass,
        };
    }

    /// <summary>True for the BACH codes of carcinoma: 2 (in situ) and 3 (invasive).</summary>
    public static bool IsCarcinoma(int bachCode) => bachCode >= 2;

    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>ROC AUC (Mann-Whitney U with ties counted half) of scores for items whose truth is 1 against truth 0.</summary>
    public static double RocAuc(IReadOnlyList<int> truth, IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(scores);
        int[] order = [.. Enumerable.Range(0, scores.Count).OrderBy(i => scores[i])];
        double rankSumPositive = 0;
        long positives = 0;
        int start = 0;
        while (start < order.Length)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            double averageRank = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++)
            {
                if (truth[order[j]] == 1)
                {
                    rankSumPositive += averageRank;
                    positives++;
                }
            }

            start = end + 1;
        }

        long negatives = order.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (rankSumPositive - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }

    /// <summary>
    /// The metrics as the JSON object of <c>histo evaluate --json</c>: accuracy, balanced_accuracy, macro_f1,
    /// binary_accuracy (when known), per_class (name → sensitivity, specificity, precision, f1, support),
    /// confusion (labels, matrix) and auc (two classes). NaN is written as null.
    /// </summary>
    public JsonObject ToJson()
    {
        var perClass = new JsonObject();
        for (int c = 0; c < Labels.Count; c++)
        {
            ClassMetrics m = PerClass[c];
            perClass[Labels[c]] = new JsonObject
            {
                ["sensitivity"] = Number(m.Sensitivity),
                ["specificity"] = Number(m.Specificity),
                ["precision"] = Number(m.Precision),
                ["f1"] = Number(m.F1),
                ["support"] = m.Support,
            };
        }

        var matrix = new JsonArray();
        foreach (int[] row in Confusion)
        {
            matrix.Add(new JsonArray([.. row.Select(v => (JsonNode?)JsonValue.Create(v))]));
        }

        var json = new JsonObject
        {
            ["count"] = Count,
            ["accuracy"] = Number(Accuracy),
            ["balanced_accuracy"] = Number(BalancedAccuracy),
            ["macro_f1"] = Number(MacroF1),
        };
        if (BinaryAccuracy is { } binary)
        {
            json["binary_accuracy"] = Number(binary);
        }

        if (Auc is { } auc)
        {
            json["auc"] = Number(auc);
        }

        json["per_class"] = perClass;
        json["confusion"] = new JsonObject
        {
            ["labels"] = new JsonArray([.. Labels.Select(l => (JsonNode?)JsonValue.Create(l))]),
            ["matrix"] = matrix,
        };
        return json;
    }

    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 6)) : null;
}
