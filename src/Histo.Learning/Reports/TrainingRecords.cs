using System.Globalization;
using Histo.Learning.Evaluation;

namespace Histo.Learning.Reports;

/// <summary>One line of a model directory's <c>history.csv</c>: one epoch of one fold (or of the final model).</summary>
/// <param name="Fold">The fold, <c>1</c>..<c>K</c>, or <c>final</c> for the model trained on all data.</param>
/// <param name="Epoch">Epoch number.</param>
/// <param name="TrainLoss">Mean training loss of the epoch.</param>
/// <param name="ValLoss">Validation loss, or null (final model).</param>
/// <param name="ValBalancedAccuracy">Validation balanced accuracy, or null.</param>
/// <param name="ValMacroF1">Validation macro F1, or null.</param>
/// <param name="LearningRate">Learning rate of the epoch.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="Seconds">Duration of the epoch.</param>
public sealed record HistoryRow(string Fold, int Epoch, double TrainLoss, double? ValLoss, double? ValBalancedAccuracy, double? ValMacroF1,
    double LearningRate, double ImagesPerSecond, double Seconds);

/// <summary>One out-of-fold prediction of <c>cv_predictions.csv</c>.</summary>
/// <param name="Fold">The fold whose model predicted it.</param>
/// <param name="Prediction">The prediction (truth index into the class columns).</param>
public sealed record CrossValidationPrediction(string Fold, ImagePrediction Prediction);

/// <summary>
/// Reads the trainer's records in a model directory. <c>history.csv</c> has exactly the header
/// <c>fold,epoch,train_loss,val_loss,val_balanced_accuracy,val_macro_f1,learning_rate,images_per_second,seconds</c>
/// (val columns empty for fold <c>final</c>); <c>cv_predictions.csv</c> has <c>path,group,fold,truth,</c> then one
/// <c>p_&lt;class&gt;</c> column per class, truth being a class name.
/// </summary>
public static class TrainingRecords
{
    /// <summary>File name of the per-epoch history.</summary>
    public const string HistoryFileName = "history.csv";

    /// <summary>File name of the out-of-fold predictions.</summary>
    public const string PredictionsFileName = "cv_predictions.csv";

    /// <summary>The exact header of <c>history.csv</c>.</summary>
    public const string HistoryHeader = "fold,epoch,train_loss,val_loss,val_balanced_accuracy,val_macro_f1,learning_rate,images_per_second,seconds";

    /// <summary>Reads <c>history.csv</c>.</summary>
    /// <exception cref="ReportInputException">Missing file, wrong header, malformed line.</exception>
    public static List<HistoryRow> ReadHistory(string path)
    {
        string[] lines = ReadLines(path);
        if (lines[0].Trim() != HistoryHeader)
        {
            throw new ReportInputException($"{path}: header must be '{HistoryHeader}', got '{lines[0].Trim()}'");
        }

        var rows = new List<HistoryRow>();
        for (int n = 1; n < lines.Length; n++)
        {
            string[] f = SplitCsv(lines[n]);
            if (f.Length != 9)
            {
                throw new ReportInputException($"{path}:{n + 1}: expected 9 fields, got {f.Length}");
            }

            string fold = f[0].Trim();
            if (fold != "final" && !(int.TryParse(fold, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1))
            {
                throw new ReportInputException($"{path}:{n + 1}: fold must be 1..K or 'final', got '{fold}'");
            }

            rows.Add(new HistoryRow(fold, (int)Number(f[1], path, n, "epoch"), Number(f[2], path, n, "train_loss"),
                Optional(f[3], path, n, "val_loss"), Optional(f[4], path, n, "val_balanced_accuracy"), Optional(f[5], path, n, "val_macro_f1"),
                Number(f[6], path, n, "learning_rate"), Number(f[7], path, n, "images_per_second"), Number(f[8], path, n, "seconds")));
        }

        return rows;
    }

    /// <summary>Reads <c>cv_predictions.csv</c>: the class names (from the <c>p_</c> columns) and the predictions.</summary>
    /// <exception cref="ReportInputException">Missing file, wrong header, unknown truth, malformed probability.</exception>
    public static (List<string> Classes, List<CrossValidationPrediction> Predictions) ReadPredictions(string path)
    {
        string[] lines = ReadLines(path);
        string[] header = SplitCsv(lines[0].Trim());
        if (header.Length < 6 || header[0] != "path" || header[1] != "group" || header[2] != "fold" || header[3] != "truth"
            || header.Skip(4).Any(h => !h.StartsWith("p_", StringComparison.Ordinal) || h.Length == 2))
        {
            throw new ReportInputException($"{path}: header must be 'path,group,fold,truth,p_<class>,p_<class>...', got '{lines[0].Trim()}'");
        }

        List<string> classes = [.. header.Skip(4).Select(h => h[2..])];
        var predictions = new List<CrossValidationPrediction>();
        for (int n = 1; n < lines.Length; n++)
        {
            string[] f = SplitCsv(lines[n]);
            if (f.Length != header.Length)
            {
                throw new ReportInputException($"{path}:{n + 1}: expected {header.Length} fields, got {f.Length}");
            }

            int truth = classes.IndexOf(f[3]);
            if (truth < 0)
            {
                throw new ReportInputException($"{path}:{n + 1}: truth '{f[3]}' is not one of the classes [{string.Join(", ", classes)}]");
            }

            float[] probabilities = [.. f.Skip(4).Select((v, j) => (float)Number(v, path, n, header[4 + j]))];
            predictions.Add(new CrossValidationPrediction(f[2].Trim(), new ImagePrediction(f[0], f[1], truth, probabilities)));
        }

        return (classes, predictions);
    }

    private static string[] ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            throw new ReportInputException($"{path}: file not found (written by histo train)");
        }

        string[] lines;
        try
        {
            lines = [.. Histo.IO.InputFile.ReadAllText(path, 512L << 20, "a training record").Split('\n').Where(l => l.Trim().Length > 0)];
        }
        catch (Histo.IO.InputFileException e)
        {
            throw new ReportInputException(e.Message);
        }

        if (lines.Length < 2)
        {
            throw new ReportInputException($"{path}: no data lines");
        }

        return lines;
    }

    private static double Number(string text, string path, int index, string column) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : throw new ReportInputException($"{path}:{index + 1}: {column} '{text}' is not a number");

    private static double? Optional(string text, string path, int index, string column) =>
        string.IsNullOrWhiteSpace(text) ? null : Number(text, path, index, column);

    /// <summary>Splits one CSV line (double-quoted fields may hold commas and doubled quotes).</summary>
    internal static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
                continue;
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString().TrimEnd('\r'));
        return [.. fields.Select(Histo.IO.CsvText.Value)];
    }
}
