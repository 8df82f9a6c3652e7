using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Histo.Imaging;
using Histo.Viewer;
using OpenCvSharp;

namespace Histo.Tests.Viewer;

/// <summary>
/// A served folder built from the shared slides, a prediction folder written the way the whole-slide pipeline
/// writes it, symbolic links that lead in and out of the folder, and a running viewer on a free loopback port.
/// <code>
/// root/served/   A01-window.tif (+ A01-window.xml, ImageScope), cmu-1-small-region.svs, broken.svs,
///                sub dir/tiny ü.svs, inside-link.svs -> cmu-1-small-region.svs,
///                outside-link.svs -> ../outside/small.svs, abs-link.svs -> /abs/path/small.svs, linkdir -> ../outside
/// root/outside/  small.svs, secret.txt
/// root/predictions/A01-window/  geometry.json heatmap.png classmap.png overlay.png prediction.geojson summary.json
/// root/predictions/sub dir/tiny ü/  geometry.json (malformed) heatmap.png
/// </code>
/// </summary>
public sealed class ViewerFixture : IAsyncLifetime
{
    public const string SecretText = "TOP-SECRET-OUTSIDE-THE-SERVED-FOLDER";
    public static readonly string[] ClassNames = ["Normal", "Benign", "InSitu", "Invasive"];

    /// <summary>Class-map pixels per level-0 pixel: one map pixel per 100 x 100 level-0 patch.</summary>
    public const int MapCellPixels = 100;

    public string Root { get; } = TestPaths.NewTempDirectory();

    public string Served => Path.Combine(Root, "served");

    public string Outside => Path.Combine(Root, "outside");

    public string PredictionsDir => Path.Combine(Root, "predictions");

    public ViewerServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The class map written for A01 (50 x 50, BACH codes), for checking what the server paints.</summary>
    public byte[] ClassMap { get; private set; } = [];

    /// <summary>The level-0 outline of the benign region written as the annotation XML and the prediction GeoJSON.</summary>
    public Point[] BenignOutline { get; private set; } = [];

    public async Task InitializeAsync()
    {
        BuildFolders(Root);
        (ClassMap, BenignOutline) = WritePredictions(Path.Combine(PredictionsDir, "A01-window"));
        WriteImageScopeXml(Path.Combine(Served, "A01-window.xml"), BenignOutline);
        string broken = Path.Combine(PredictionsDir, "sub dir", "tiny ü");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "geometry.json"), "{ \"level0_x\": ");
        File.Copy(Path.Combine(PredictionsDir, "A01-window", "heatmap.png"), Path.Combine(broken, "heatmap.png"));
        Server = await ViewerServer.StartAsync(new ViewerOptions { SlidesFolder = Served, PredictionsFolder = PredictionsDir, Port = 0 });
        Http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Copies the slides and makes the links of the layout above.</summary>
    public static void BuildFolders(string root)
    {
        string served = Path.Combine(root, "served"), outside = Path.Combine(root, "outside");
        Directory.CreateDirectory(Path.Combine(served, "sub dir"));
        Directory.CreateDirectory(outside);
        File.Copy(TestPaths.A01Window, Path.Combine(served, "A01-window.tif"));
        File.Copy(TestPaths.CmuSmall, Path.Combine(served, "cmu-1-small-region.svs"));
        File.Copy(TestPaths.BrokenSvs, Path.Combine(served, "broken.svs"));
        File.Copy(TestPaths.TinySvs, Path.Combine(served, "sub dir", "tiny ü.svs"));
        File.Copy(TestPaths.TinySvs, Path.Combine(outside, "small.svs"));
        File.WriteAllText(Path.Combine(outside, "secret.txt"), SecretText);
        File.WriteAllText(Path.Combine(outside, "secret.svs"), SecretText);
        File.CreateSymbolicLink(Path.Combine(served, "inside-link.svs"), "cmu-1-small-region.svs");
        File.CreateSymbolicLink(Path.Combine(served, "outside-link.svs"), Path.Combine("..", "outside", "small.svs"));
        File.CreateSymbolicLink(Path.Combine(served, "abs-link.svs"), Path.Combine(outside, "small.svs"));
        Directory.CreateSymbolicLink(Path.Combine(served, "linkdir"), outside);
    }

    /// <summary>
    /// Writes a prediction folder for A01 as the pipeline does: a 50 x 50 class map from the A01 label mask (one
    /// pixel per 100 x 100 level-0 patch), a colour heatmap, the overlay picture, geometry.json, and a QuPath
    /// GeoJSON with the benign region's outline (a polygon) and a square with a hole.
    /// </summary>
    public static (byte[] ClassMap, Point[] BenignOutline) WritePredictions(string folder)
    {
        Directory.CreateDirectory(folder);
        var (labels, width, height) = ImageIO.LoadGray(TestPaths.A01Labels);
        int mapW = width / MapCellPixels, mapH = height / MapCellPixels;
        using var labelMat = Mat.FromPixelData(height, width, MatType.CV_8UC1, labels);
        using var classMat = new Mat();
        Cv2.Resize(labelMat, classMat, new Size(mapW, mapH), 0, 0, InterpolationFlags.Nearest);
        var classMap = new byte[mapW * mapH];
        System.Runtime.InteropServices.Marshal.Copy(classMat.Data, classMap, 0, classMap.Length);
        ImageIO.SaveGray(Path.Combine(folder, "classmap.png"), classMap, mapW, mapH);

        // Heatmap: a blue-to-red ramp across the slide, redder where the class map says Benign.
        var heat = new RgbaImage(mapW, mapH);
        for (int y = 0; y < mapH; y++)
        {
            var row = heat.Row(y);
            for (int x = 0; x < mapW; x++)
            {
                int t = x * 255 / (mapW - 1);
                bool benign = classMap[y * mapW + x] == 1;
                row[x * 4] = (byte)(benign ? 255 : t);
                row[x * 4 + 1] = (byte)(benign ? 0 : 64);
                row[x * 4 + 2] = (byte)(benign ? 0 : 255 - t);
                row[x * 4 + 3] = 255;
            }
        }

        ImageIO.Save(Path.Combine(folder, "heatmap.png"), heat);
        ImageIO.Save(Path.Combine(folder, "overlay.png"), heat);

        using var benignMask = new Mat();
        using var small = new Mat();
        Cv2.Resize(labelMat, small, new Size(width / 10, height / 10), 0, 0, InterpolationFlags.Nearest);
        Cv2.InRange(small, new Scalar(1), new Scalar(1), benignMask);
        Cv2.FindContours(benignMask, out Point[][] contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        var outline = contours.OrderByDescending(c => Cv2.ContourArea(c)).First().Select(p => new Point(p.X * 10, p.Y * 10)).ToArray();

        var geometry = new Dictionary<string, object>
        {
            ["level0_x"] = 0, ["level0_y"] = 0, ["level0_width"] = mapW * MapCellPixels, ["level0_height"] = mapH * MapCellPixels,
            ["width"] = mapW, ["height"] = mapH, ["classes"] = ClassNames,
        };
        File.WriteAllText(Path.Combine(folder, "geometry.json"), JsonSerializer.Serialize(geometry));
        var ring = outline.Select(p => new[] { (double)p.X, p.Y }).Append([outline[0].X, outline[0].Y]).ToArray();
        double[][] square = [[500, 3500], [1500, 3500], [1500, 4500], [500, 4500], [500, 3500]];
        double[][] hole = [[800, 3800], [1200, 3800], [1200, 4200], [800, 4200], [800, 3800]];
        var features = new object[]
        {
            Feature("Polygon", new[] { ring }, "Benign", [230, 198, 25]),
            Feature("Polygon", new[] { square, hole }, "Normal", [44, 160, 44]),
        };
        File.WriteAllText(Path.Combine(folder, "prediction.geojson"), JsonSerializer.Serialize(new { type = "FeatureCollection", features }));
        File.WriteAllText(Path.Combine(folder, "summary.json"), """{"classes":{"Benign":{"area_mm2":0.1}}}""");
        return (classMap, outline);
    }

    private static object Feature(string type, object coordinates, string name, int[] color) => new
    {
        type = "Feature",
        geometry = new { type, coordinates },
        properties = new { objectType = "annotation", classification = new { name, color } },
    };

    /// <summary>An Aperio ImageScope XML with one region (the outline) labelled as BACH writes it.</summary>
    public static void WriteImageScopeXml(string path, Point[] outline)
    {
        var sb = new StringBuilder();
        sb.Append("<Annotations MicronsPerPixel=\"0.466667\">\n<Annotation Id=\"1\" Name=\"Layer 1\" LineColor=\"65280\">\n<Attributes/>\n<Regions>\n")
          .Append("<RegionAttributeHeaders><AttributeHeader Id=\"9999\" Name=\"Region\"/></RegionAttributeHeaders>\n")
          .Append("<Region Id=\"1\" Type=\"0\" Text=\"Benign\"><Attributes/><Vertices>\n");
        foreach (var p in outline)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<Vertex X=\"{p.X}\" Y=\"{p.Y}\" Z=\"0\"/>\n");
        }

        sb.Append("</Vertices></Region>\n</Regions>\n</Annotation>\n</Annotations>\n");
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// Sends a GET with the request target exactly as given (no client-side normalisation of "..", "%2e" or "//"),
    /// and returns the status code and body.
    /// </summary>
    public async Task<(int Status, string Body)> RawGetAsync(string rawTarget, string host = "127.0.0.1")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Server.Address.Host, Server.Address.Port);
        using var stream = tcp.GetStream();
        byte[] request = Encoding.UTF8.GetBytes($"GET {rawTarget} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        using var response = new MemoryStream();
        await stream.CopyToAsync(response);
        string text = Encoding.UTF8.GetString(response.ToArray());
        int status = int.Parse(text.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        int bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, bodyStart < 0 ? "" : text[(bodyStart + 4)..]);
    }
}

[CollectionDefinition(Name)]
public sealed class ViewerCollection : ICollectionFixture<ViewerFixture>
{
    public const string Name = "viewer";
}
