using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Histo.Viewer;

/// <summary>The viewer's two HTML pages, rendered on the server (every dynamic text HTML-encoded).</summary>
internal static class Pages
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static string Index(IReadOnlyList<SlideListEntry> slides, string folderName, bool predictionsServed)
    {
        var sb = new StringBuilder();
        Head(sb, "Histo viewer: " + folderName, "index-page");
        sb.Append("<header><h1>Histo viewer</h1><span class=\"folder\">").Append(E(folderName)).Append("</span><span class=\"count\">")
          .Append(slides.Count.ToString(CultureInfo.InvariantCulture)).Append(slides.Count == 1 ? " slide" : " slides").Append("</span></header>\n<main>\n");
        if (slides.Count == 0)
        {
            sb.Append("<p class=\"empty\">No slides in this folder (looked for ")
              .Append(E(string.Join(" ", SlideLibrary.SlideExtensions.Order(StringComparer.Ordinal)))).Append(").</p>\n");
        }
        else
        {
            sb.Append("<table class=\"slides\"><thead><tr><th>Thumbnail</th><th>Slide</th><th>Size (px)</th><th>MPP (µm/px)</th><th>Vendor</th><th>Levels</th><th>File</th>");
            if (predictionsServed)
            {
                sb.Append("<th>Predictions</th>");
            }

            sb.Append("</tr></thead><tbody>\n");
            foreach (var s in slides)
            {
                string url = SlideLibrary.UrlOf(s.Name);
                sb.Append("<tr class=\"slide\" data-slide=\"").Append(E(s.Name)).Append("\">");
                if (s.Error != null)
                {
                    sb.Append("<td class=\"thumb\"></td><td class=\"name\">").Append(E(s.Name)).Append("</td><td colspan=\"4\" class=\"error\">cannot open: ")
                      .Append(E(s.Error)).Append("</td><td>").Append(E(Bytes(s.FileSizeBytes))).Append("</td>");
                }
                else
                {
                    sb.Append("<td class=\"thumb\"><a href=\"/view/").Append(E(url)).Append("\"><img loading=\"lazy\" alt=\"\" src=\"/thumbnail/").Append(E(url)).Append("\"></a></td>")
                      .Append("<td class=\"name\"><a href=\"/view/").Append(E(url)).Append("\">").Append(E(s.Name)).Append("</a></td>")
                      .Append("<td>").Append(s.Width.ToString("N0", CultureInfo.InvariantCulture)).Append(" × ").Append(s.Height.ToString("N0", CultureInfo.InvariantCulture)).Append("</td>")
                      .Append("<td>").Append(E(Mpp(s.MppX, s.MppY))).Append("</td>")
                      .Append("<td>").Append(E(s.Vendor)).Append("</td>")
                      .Append("<td>").Append(s.LevelCount.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                      .Append("<td>").Append(E(Bytes(s.FileSizeBytes))).Append("</td>");
                }

                if (predictionsServed)
                {
                    sb.Append("<td>").Append(s.HasPredictions ? "yes" : "—").Append("</td>");
                }

                sb.Append("</tr>\n");
            }

            sb.Append("</tbody></table>\n");
        }

        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    public static string Slide(string name, IReadOnlyDictionary<string, object?> d, string configJson)
    {
        var sb = new StringBuilder();
        Head(sb, name + " - Histo viewer", "slide-page");
        sb.Append("<header><a class=\"back\" href=\"/\">← slides</a><h1>").Append(E(name)).Append("</h1></header>\n");
        sb.Append("<div id=\"layout\"><div id=\"viewer-wrap\"><div id=\"viewer\" aria-label=\"slide\"></div><div id=\"scalebar\" hidden><div class=\"bar\"></div><span class=\"label\"></span></div><div id=\"readout\" hidden></div></div>\n<aside id=\"panel\">\n");
        sb.Append("<p class=\"view-link\"><a id=\"view-link\" href=\"#\" title=\"This address reopens the slide at this place, zoom and layers\">Link to this view</a></p>\n");
        sb.Append("<section id=\"overlay-panel\" hidden></section>\n<section id=\"annotation-panel\" hidden></section>\n");

        sb.Append("<section id=\"slide-summary\"><h2>Slide</h2><table class=\"props\">");
        Row(sb, "Size (level 0)", string.Create(CultureInfo.InvariantCulture, $"{d["width"]:N0} × {d["height"]:N0} px"));
        Row(sb, "MPP", Mpp(d["mppX"] as double?, d["mppY"] as double?) + (d["mppX"] is null ? "" : " (" + d["mppSource"] + ")"));
        Row(sb, "Objective", d["objectivePower"] is double p ? p.ToString("0.##", CultureInfo.InvariantCulture) + "×" : "unknown");
        Row(sb, "Vendor", d["vendor"] as string ?? "");
        if (d["levels"] is IEnumerable<SlideLevelInfo> levels)
        {
            Row(sb, "Levels", string.Join("; ", levels.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Width} × {l.Height} (÷{l.Downsample:0.###})"))));
        }

        Row(sb, "File size", Bytes(d["fileSizeBytes"] is long b ? b : 0));
        if (d["associatedImages"] is IEnumerable<string> associated && associated.Any())
        {
            Row(sb, "Associated images", string.Join(", ", associated));
        }

        sb.Append("</table></section>\n");

        sb.Append("<section id=\"slide-properties\"><h2>Properties</h2><table class=\"props\">");
        if (d["properties"] is IEnumerable<KeyValuePair<string, string>> props)
        {
            foreach (var (key, value) in props)
            {
                Row(sb, key, value);
            }
        }

        sb.Append("</table></section>\n</aside></div>\n");
        sb.Append("<script type=\"application/json\" id=\"slide-config\">").Append(configJson).Append("</script>\n");
        sb.Append("<script src=\"/static/openseadragon/openseadragon.min.js\"></script>\n<script src=\"/static/viewer-scalebar.js\"></script>\n<script src=\"/static/viewer-link.js\"></script>\n<script src=\"/static/viewer.js\"></script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Head(StringBuilder sb, string title, string bodyClass)
    {
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>")
          .Append(E(title)).Append("</title>\n<link rel=\"stylesheet\" href=\"/static/viewer.css\">\n</head>\n<body class=\"").Append(bodyClass).Append("\">\n");
    }

    private static void Row(StringBuilder sb, string key, string value) =>
        sb.Append("<tr><th>").Append(E(key)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    private static string Mpp(double? x, double? y) =>
        x is null || y is null ? "unknown"
        : Math.Abs(x.Value - y.Value) < 1e-9 ? x.Value.ToString("0.####", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{x:0.####} × {y:0.####}");

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    private static string E(string text) => Html.Encode(text);
}
