using Histo.Datasets;
using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Tests.Datasets;

/// <summary>Shared real data for the dataset tests: IDC (loaded and hashed once per test run) and temp copies of small parts.</summary>
internal static class DatasetTestData
{
    public static string IdcRoot => TestPaths.Shared("idc");

    public static string BachRoot => TestPaths.Shared("microscopy", "bach");

    public static string BreakHisRoot => TestPaths.Shared("microscopy", "breakhis");

    /// <summary>Small IDC patients with both classes (3-6 patches of each).</summary>
    public static readonly string[] SmallPatients = ["12748", "12811", "12882", "12879"];

    private static readonly Lazy<Dataset> FullIdcLazy = new(() => DatasetLoader.Load(IdcRoot));
    private static readonly Lazy<IReadOnlyList<ImageFingerprint>> FullIdcFingerprintsLazy = new(() => LeakChecker.Fingerprint(FullIdc));

    /// <summary>The whole IDC development split (7,831 patches), loaded once.</summary>
    public static Dataset FullIdc => FullIdcLazy.Value;

    /// <summary>Fingerprints of <see cref="FullIdc"/>, computed once.</summary>
    public static IReadOnlyList<ImageFingerprint> FullIdcFingerprints => FullIdcFingerprintsLazy.Value;

    /// <summary>Copies the given IDC patients (layout <c>&lt;patient&gt;/&lt;0|1&gt;/</c>) into a fresh temp folder.</summary>
    public static string CopyIdcPatients(params string[] patients)
    {
        string root = TestPaths.NewTempDirectory();
        foreach (string patient in patients)
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(IdcRoot, patient), "*.png", SearchOption.AllDirectories))
            {
                string target = Path.Combine(root, Path.GetRelativePath(IdcRoot, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }

        return root;
    }

    /// <summary>The first full-size (50 x 50), informative patch of a patient's class folder.</summary>
    public static string InformativePatch(string root, string patient, int classLabel)
    {
        var options = new LeakCheckOptions();
        return Directory.EnumerateFiles(Path.Combine(root, patient, classLabel.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Order(StringComparer.Ordinal)
            .First(f => ImageFingerprint.Compute(f, options) is { WidthPixels: 50, HeightPixels: 50 } fp && !fp.IsLowInformation(options));
    }

    /// <summary>Writes a flipped (or rotated) copy of an image as PNG.</summary>
    public static void WriteTransformed(string source, string target, Func<Mat, Mat> transform)
    {
        using var image = Cv2.ImRead(source, ImreadModes.Color);
        using var result = transform(image);
        Cv2.ImWrite(target, result);
    }

    /// <summary>Writes an opaque RGB image filled by <paramref name="pixel"/>(x, y).</summary>
    public static void WriteImage(string path, int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var image = new RgbaImage(width, height);
        for (int y = 0; y < height; y++)
        {
            var row = image.Row(y);
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                row[x * 4] = r;
                row[x * 4 + 1] = g;
                row[x * 4 + 2] = b;
                row[x * 4 + 3] = 255;
            }
        }

        ImageIO.Save(path, image);
    }
}
