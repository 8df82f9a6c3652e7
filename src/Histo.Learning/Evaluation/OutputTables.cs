using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Histo.IO;

namespace Histo.Learning.Evaluation;

/// <summary>One image's pooled features and what is known about it.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Label">Its class name, or empty when unlabelled.</param>
/// <param name="Group">Its group (patient or source image), or empty when unknown.</param>
/// <param name="Features">The pooled features.</param>
public sealed record FeatureRow(string Path, string Label, string Group, float[] Features);

/// <summary>Text and file forms of predictions and features (<c>histo predict</c>, <c>histo embed</c>).</summary>
public static class OutputTables
{
    /// <summary>
    /// Predictions as CSV: <c>path,predicted,p_&lt;class&gt;...</c> (probabilities with 6 decimals), plus a
    /// <c>truth</c> column after <c>path</c> when any prediction is labelled.
    /// </summary>
    public static string PredictionsCsv(IReadOnlyList<string> labels, IReadOnlyList<ImagePrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        bool labelled = predictions.Any(p => p.TruthIndex >= 0);
        var sb = new StringBuilder();
        sb.Append("path");
        if (labelled)
        {
            sb.Append(",truth");
        }

        sb.Append(",predicted");
        foreach (string label in labels)
        {
            sb.Append(",p_").Append(Csv(label));
        }

        sb.Append('\n');
        foreach (ImagePrediction p in predictions)
        {
            sb.Append(Csv(p.Path));
            if (labelled)
            {
                sb.Append(',').Append(p.TruthIndex >= 0 ? Csv(labels[p.TruthIndex]) : "");
            }

            sb.Append(',').Append(Csv(labels[p.PredictedIndex]));
            foreach (float value in p.Probabilities)
            {
                sb.Append(',').Append(value.ToString("0.######", CultureInfo.InvariantCulture));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Predictions as JSON: <c>{"classes": [...], "images": [{"path", "class", "probabilities": {name: p}}]}</c>.</summary>
    public static string PredictionsJson(IReadOnlyList<string> labels, IReadOnlyList<ImagePrediction> predictions, bool testTimeAugmentation)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        var images = new JsonArray();
        foreach (ImagePrediction p in predictions)
        {
            var probabilities = new JsonObject();
            for (int c = 0; c < labels.Count; c++)
            {
                probabilities[labels[c]] = Math.Round((double)p.Probabilities[c], 6);
            }

            var image = new JsonObject { ["path"] = p.Path, ["class"] = labels[p.PredictedIndex], ["probabilities"] = probabilities };
            if (p.TruthIndex >= 0)
            {
                image["truth"] = labels[p.TruthIndex];
            }

            images.Add(image);
        }

        var json = new JsonObject
        {
            ["classes"] = new JsonArray([.. labels.Select(l => (JsonNode?)JsonValue.Create(l))]),
            ["tta"] = testTimeAugmentation,
            ["images"] = images,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Writes features atomically. <c>.csv</c>: <c>path,label,group,f0..f&lt;D-1&gt;</c>. <c>.npy</c>: a float32
    /// [N, D] array (<see cref="NpyFile"/>) plus the sidecar <see cref="SidecarPathOf"/> with <c>index,path,label,group</c>
    /// (row i of the array is line i of the sidecar). Both files are staged and renamed only when both are written.
    /// </summary>
    /// <exception cref="InvalidParameterException">The extension is neither .csv nor .npy.</exception>
    public static void WriteFeatures(string path, IReadOnlyList<FeatureRow> rows)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(rows);
        int columns = rows.Count == 0 ? 0 : rows[0].Features.Length;
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".csv")
        {
            var sb = new StringBuilder("path,label,group");
            for (int j = 0; j < columns; j++)
            {
                sb.Append(",f").Append(j.ToString(CultureInfo.InvariantCulture));
            }

            sb.Append('\n');
            foreach (FeatureRow row in rows)
            {
                sb.Append(Csv(row.Path)).Append(',').Append(Csv(row.Label)).Append(',').Append(Csv(row.Group));
                foreach (float value in row.Features)
                {
                    sb.Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture));
                }

                sb.Append('\n');
            }

            AtomicFile.WriteAllText(path, sb.ToString());
            return;
        }

        if (extension != ".npy")
        {
            throw new InvalidParameterException($"{path}: features are written as .csv or .npy");
        }

        var index = new StringBuilder("index,path,label,group\n");
        for (int i = 0; i < rows.Count; i++)
        {
            index.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Csv(rows[i].Path)).Append(',')
                .Append(Csv(rows[i].Label)).Append(',').Append(Csv(rows[i].Group)).Append('\n');
        }

        string sidecar = SidecarPathOf(path);
        string stagedSidecar = StagedName(sidecar);
        try
        {
            AtomicFile.WriteAllText(stagedSidecar, index.ToString());
            AtomicFile.Write(path, stream => NpyFile.WriteFloat32(stream, [.. rows.Select(r => r.Features)], columns));
            File.Move(stagedSidecar, sidecar, overwrite: true);
        }
        finally
        {
            File.Delete(stagedSidecar);
        }
    }

    /// <summary>The sidecar of a <c>.npy</c> feature file: <c>features.npy</c> → <c>features.paths.csv</c>.</summary>
    public static string SidecarPathOf(string npyPath)
    {
        ArgumentNullException.ThrowIfNull(npyPath);
        return Path.ChangeExtension(npyPath, ".paths.csv");
    }

    private static string StagedName(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $".{Path.GetFileName(path)}.staged-{Guid.NewGuid():N}");

    /// <summary>A CSV text field (<see cref="Histo.IO.CsvText.Field"/>: quoted when needed, formulas neutralised).</summary>
    public static string Csv(string value) => Histo.IO.CsvText.Field(value);
}
