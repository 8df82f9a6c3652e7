using System.Globalization;
using System.Text;
using Histo.Annotations;

namespace Histo.Tests.Annotations;

/// <summary>Paths of the shared annotation files and helpers that write small annotation files for tests.</summary>
internal static class AnnotationTestData
{
    public static string Bach(string slide) => TestPaths.Shared("annotations", "bach", slide + ".xml");

    public static string Camelyon => TestPaths.Shared("annotations", "camelyon17", "patient_004_node_4.xml");

    /// <summary>An Aperio ImageScope document with one layer; each region is (id, text, vertices, extra attributes, inner XML).</summary>
    public static string Aperio(params (string Id, string Text, (double X, double Y)[] Vertices, string Extra, string Inner)[] regions)
    {
        var sb = new StringBuilder();
        sb.Append("<Annotations MicronsPerPixel=\"0.466667\">\n<Annotation Id=\"1\" Name=\"Layer 1\"><Attributes/><Regions>\n");
        sb.Append("<RegionAttributeHeaders><AttributeHeader Id=\"9999\" Name=\"Region\" ColumnWidth=\"-1\"/></RegionAttributeHeaders>\n");
        foreach (var (id, text, vertices, extra, inner) in regions)
        {
            string negative = extra.Contains("NegativeROA", StringComparison.Ordinal) ? "" : "NegativeROA=\"0\"";
            sb.Append(CultureInfo.InvariantCulture, $"<Region Id=\"{id}\" Type=\"0\" Text=\"{text}\" {negative} {extra}>{inner}<Vertices>");
            foreach (var (x, y) in vertices)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<Vertex X=\"{x}\" Y=\"{y}\" Z=\"0\"/>");
            }

            sb.Append("</Vertices></Region>\n");
        }

        sb.Append("</Regions></Annotation></Annotations>\n");
        return sb.ToString();
    }

    public static (double X, double Y)[] Rect(double x0, double y0, double x1, double y1) => [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];

    public static AnnotationSet ParseText(string text, LabelMap? map = null) => AnnotationReader.Parse(Encoding.UTF8.GetBytes(text), "test", map);

    public static AnnotationPolygon Square(double x0, double y0, double x1, double y1, params (double X0, double Y0, double X1, double Y1)[] holes) =>
        new(Ring(x0, y0, x1, y1), holes.Select(h => (IReadOnlyList<Level0Point>)Ring(h.X0, h.Y0, h.X1, h.Y1)).ToArray());

    public static Level0Point[] Ring(double x0, double y0, double x1, double y1) =>
        [new(x0, y0), new(x1, y0), new(x1, y1), new(x0, y1)];
}
