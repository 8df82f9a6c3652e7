using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Histo.Evaluation;
using Histo.Learning.Evaluation;
using Histo.Models;

namespace Histo.Learning.Reports;

/// <summary>A small self-contained HTML page (inline CSS, images referenced by relative file name).</summary>
internal sealed class HtmlReport
{
    private readonly StringBuilder _body = new();
    private readonly string _title;

    public HtmlReport(string title) => _title = title;

    public static string Format(double value) => double.IsFinite(value) ? value.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";

    public static string Format(double? value) => value is { } v ? Format(v) : "n/a";

    public static string Interval(ConfidenceInterval interval) =>
        double.IsFinite(interval.Low) ? $"[{Format(interval.Low)}, {Format(interval.High)}]" : "n/a";

    public HtmlReport Heading(string text, int level = 2)
    {
        _body.Append(CultureInfo.InvariantCulture, $"<h{level}>{WebUtility.HtmlEncode(text)}</h{level}>\n");
        return this;
    }

    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>").Append(WebUtility.HtmlEncode(text)).Append("</p>\n");
        return this;
    }

    public HtmlReport Image(string fileName, string alt)
    {
        _body.Append(CultureInfo.InvariantCulture, $"<p><img src=\"{WebUtility.HtmlEncode(fileName)}\" alt=\"{WebUtility.HtmlEncode(alt)}\"></p>\n");
        return this;
    }

    public HtmlReport Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _body.Append("<table>\n<tr>");
        foreach (string h in header)
        {
            _body.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
        }

        _body.Append("</tr>\n");
        foreach (IReadOnlyList<string> row in rows)
        {
            _body.Append("<tr>");
            foreach (string cell in row)
            {
                _body.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
            }

            _body.Append("</tr>\n");
        }

        _body.Append("</table>\n");
        return this;
    }

    public HtmlReport Preformatted(string text)
    {
        _body.Append("<pre>").Append(WebUtility.HtmlEncode(text)).Append("</pre>\n");
        return this;
    }

    /// <summary>Headline metrics with their bootstrap intervals.</summary>
    public HtmlReport Metrics(EvaluationResult result)
    {
        ClassificationMetrics m = result.Metrics;
        var rows = new List<IReadOnlyList<string>>
        {
            new[] { "images", m.Count.ToString(CultureInfo.InvariantCulture), "" },
            new[] { "accuracy", Format(m.Accuracy), "" },
            new[] { "balanced accuracy", Format(m.BalancedAccuracy), Interval(result.BalancedAccuracyInterval) },
            new[] { "macro F1", Format(m.MacroF1), Interval(result.MacroF1Interval) },
        };
        if (m.BinaryAccuracy is { } binary)
        {
            rows.Add(["binary accuracy (carcinoma vs not)", Format(binary), ""]);
        }

        if (m.Auc is { } auc)
        {
            rows.Add(["ROC AUC", Format(auc), ""]);
        }

        return Table(["metric", "value", "95 % bootstrap interval"], rows);
    }

    /// <summary>Per-class figures: sensitivity and specificity one class vs the rest (the BACH paper's Table 4), precision, F1, support.</summary>
    public HtmlReport PerClass(ClassificationMetrics metrics)
    {
        return Table(["class", "sensitivity", "specificity", "precision", "F1", "support"],
            metrics.Labels.Select((label, c) => (IReadOnlyList<string>)
            [
                label, Format(metrics.PerClass[c].Sensitivity), Format(metrics.PerClass[c].Specificity), Format(metrics.PerClass[c].Precision),
                Format(metrics.PerClass[c].F1), metrics.PerClass[c].Support.ToString(CultureInfo.InvariantCulture),
            ]));
    }

    /// <summary>The confusion matrix as numbers: one row per true class, one column per predicted class.</summary>
    public HtmlReport Confusion(ClassificationMetrics metrics)
    {
        return Table(["truth / predicted", .. metrics.Labels],
            metrics.Labels.Select((label, r) => (IReadOnlyList<string>)
                [label, .. metrics.Confusion[r].Select(v => v.ToString(CultureInfo.InvariantCulture))]));
    }

    /// <summary>The model card's essentials and its training record.</summary>
    public HtmlReport Card(ModelCard card)
    {
        Heading("Model card");
        string codes = card.HasBachCodes ? string.Join(", ", card.Classes.Select((c, i) => $"{c} → {card.BachCodes![i]}")) : "none";
        Table(["field", "value"],
        [
            ["classes", string.Join(", ", card.Classes)],
            ["BACH codes", codes],
            ["architecture", card.Architecture],
            ["patch size (px)", card.PatchSizePixels.ToString(CultureInfo.InvariantCulture)],
            ["network input (px)", card.InputSizePixels.ToString(CultureInfo.InvariantCulture)],
            ["µm/px", card.Mpp is { } mpp ? mpp.ToString("0.###", CultureInfo.InvariantCulture) : "unknown"],
            ["stain normalisation", card.StainNormalization],
            ["software version", card.SoftwareVersion],
            ["terms", card.Terms ?? ""],
        ]);
        if (card.Training is not null)
        {
            Heading("Training record", 3);
            Preformatted(card.Training.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        return this;
    }

    public override string ToString() =>
        $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>{{WebUtility.HtmlEncode(_title)}}</title>
        <style>
        body { font-family: sans-serif; margin: 2em; max-width: 1300px; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
        th, td { border: 1px solid #bbb; padding: 0.25em 0.7em; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        img { max-width: 100%; }
        pre { background: #f4f4f4; padding: 0.7em; overflow-x: auto; }
        </style>
        </head>
        <body>
        <h1>{{WebUtility.HtmlEncode(_title)}}</h1>
        {{_body}}
        </body>
        </html>

        """;
}
