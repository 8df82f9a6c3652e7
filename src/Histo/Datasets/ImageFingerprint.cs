using System.Numerics;
using System.Security.Cryptography;
using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Datasets;

/// <summary>
/// What the leak check knows of one image: a 64-bit perceptual hash (DCT pHash) for itself and for its seven
/// flipped and rotated versions, a 16 x 16 grey thumbnail to confirm a hash match, a SHA-256 of the file bytes, and
/// whether it carries too little information (blank, mostly white, or a sliver) to count as evidence of a leak.
/// </summary>
public sealed class ImageFingerprint
{
    /// <summary>Side of the grey image the DCT is taken of.</summary>
    public const int HashInputSizePixels = 32;

    /// <summary>Side of the low-frequency DCT block that gives the 64 hash bits.</summary>
    public const int HashBlockSize = 8;

    /// <summary>Side of the thumbnail compared to confirm a hash match.</summary>
    public const int ThumbnailSizePixels = 16;

    private readonly float[] _thumbnail;

    private ImageFingerprint(string path, byte[] sha256, ulong[] dihedralHashes, float[] thumbnail, int widthPixels, int heightPixels,
        double greyMean, double greyStd, double whiteFraction, string? error)
    {
        Path = path;
        Sha256 = sha256;
        DihedralHashes = dihedralHashes;
        _thumbnail = thumbnail;
        WidthPixels = widthPixels;
        HeightPixels = heightPixels;
        GreyMean = greyMean;
        GreyStd = greyStd;
        WhiteFraction = whiteFraction;
        Error = error;
    }

    private static ImageFingerprint Failed(string path, byte[] sha256, string error) => new(path, sha256, [], [], 0, 0, 0, 0, 0, error);

    /// <summary>The image file.</summary>
    public string Path { get; }

    /// <summary>SHA-256 of the file bytes (empty when the file could not be read).</summary>
    public IReadOnlyList<byte> Sha256 { get; }

    /// <summary>SHA-256 as lower-case hex.</summary>
    public string Sha256Hex => Convert.ToHexStringLower(Sha256 as byte[] ?? [.. Sha256]);

    /// <summary>
    /// The pHash of the image as it is (index 0) and of its flipped / rotated versions (indexes 1-7, see
    /// <see cref="TransformNames"/>), all derived from one DCT. Empty when the image could not be decoded.
    /// </summary>
    public IReadOnlyList<ulong> DihedralHashes { get; }

    /// <summary>The perceptual hash of the image as it is.</summary>
    public ulong Hash => DihedralHashes.Count > 0 ? DihedralHashes[0] : 0;

    /// <summary>Width of the image in pixels (0 when it could not be decoded).</summary>
    public int WidthPixels { get; }

    /// <summary>Height of the image in pixels.</summary>
    public int HeightPixels { get; }

    /// <summary>Mean grey level (0-255).</summary>
    public double GreyMean { get; }

    /// <summary>Standard deviation of the grey level (0-255); near 0 for a blank image.</summary>
    public double GreyStd { get; }

    /// <summary>Fraction of pixels brighter than <see cref="LeakCheckOptions.WhiteLevel"/>.</summary>
    public double WhiteFraction { get; }

    /// <summary>Why the image could not be decoded, or null.</summary>
    public string? Error { get; }

    /// <summary>True when the image was decoded and hashed.</summary>
    public bool IsHashed => Error is null && DihedralHashes.Count > 0;

    /// <summary>Names of the transforms behind <see cref="DihedralHashes"/>, same order.</summary>
    public static IReadOnlyList<string> TransformNames { get; } =
        ["identity", "flip-horizontal", "flip-vertical", "rotate-180", "transpose", "rotate-90", "rotate-270", "anti-transpose"];

    /// <summary>
    /// True when the image is blank, mostly white or a sliver (a side under <see cref="LeakCheckOptions.MinSidePixels"/>)
    /// under <paramref name="options"/>: such images look alike whatever their origin and are not evidence of a leak.
    /// </summary>
    public bool IsLowInformation(LeakCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return IsHashed && (GreyStd < options.MinGreyStd || WhiteFraction > options.MaxWhiteFraction
            || Math.Min(WidthPixels, HeightPixels) < options.MinSidePixels);
    }

    /// <summary>
    /// Pearson correlation (-1..1) between this image's grey thumbnail, flipped or rotated by transform
    /// <paramref name="transform"/> (an index into <see cref="TransformNames"/>), and <paramref name="other"/>'s.
    /// Near 1 for the same picture (re-encoded, resized, recoloured); unrelated tissue stays below about 0.9.
    /// </summary>
    public double Correlation(ImageFingerprint other, int transform)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)transform, 7u, nameof(transform));
        if (_thumbnail.Length == 0 || other._thumbnail.Length == 0)
        {
            return 0;
        }

        const int n = ThumbnailSizePixels;
        bool flipX = transform is 1 or 3 or 5 or 7;
        bool flipY = transform is 2 or 3 or 6 or 7;
        bool transpose = transform >= 4;
        double sum = 0;
        for (int y = 0; y < n; y++)
        {
            int yy = flipY ? n - 1 - y : y;
            for (int x = 0; x < n; x++)
            {
                int xx = flipX ? n - 1 - x : x;
                int source = transpose ? xx * n + yy : yy * n + xx;
                sum += _thumbnail[source] * other._thumbnail[y * n + x];
            }
        }

        return sum;
    }

    /// <summary>Hamming distance between two 64-bit hashes.</summary>
    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>
    /// Reads, hashes and measures one image. Never throws for a bad image: a file that cannot be read or decoded
    /// gives a fingerprint with <see cref="Error"/> set.
    /// </summary>
    public static ImageFingerprint Compute(string path, LeakCheckOptions? options = null)
    {
        options ??= new LeakCheckOptions();
        byte[] bytes;
        try
        {
            bytes = ImageIO.ReadEncoded(path);
        }
        catch (ImageFormatException e)
        {
            return Failed(path, [], e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message);
        }

        byte[] sha = SHA256.HashData(bytes);
        if (bytes.Length == 0)
        {
            return Failed(path, sha, "empty file");
        }

        if (ImageSizeReader.TryReadHeaderSize(bytes, out int declaredWidth, out int declaredHeight) && ImageIO.TooLarge(declaredWidth, declaredHeight) is { } problem)
        {
            return Failed(path, sha, problem);
        }

        try
        {
            using var grey = DecodeGrey(bytes, out int width, out int height);
            if (grey.Empty())
            {
                return Failed(path, sha, "not a readable image (unsupported, truncated or corrupt)");
            }

            Cv2.MeanStdDev(grey, out Scalar mean, out Scalar std);
            using var white = new Mat();
            Cv2.Threshold(grey, white, options.WhiteLevel, 255, ThresholdTypes.Binary);
            double whiteFraction = Cv2.CountNonZero(white) / (double)(grey.Rows * grey.Cols);
            using var small = new Mat();
            Cv2.Resize(grey, small, new Size(HashInputSizePixels, HashInputSizePixels), 0, 0, InterpolationFlags.Area);
            return new ImageFingerprint(path, sha, DihedralHashesOf(small), ThumbnailOf(small), width, height,
                mean.Val0, std.Val0, whiteFraction, null);
        }
        catch (OpenCVException e)
        {
            return Failed(path, sha, $"not a readable image ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>
    /// Decodes to 8-bit grey. Large images are decoded at reduced resolution where the codec supports it (JPEG):
    /// the hash only needs 32 x 32 pixels.
    /// </summary>
    private static Mat DecodeGrey(byte[] bytes, out int width, out int height)
    {
        int reduction = 1;
        bool known = ImageSizeReader.TryReadHeaderSize(bytes.AsMemory(), out int w, out int h);
        if (known)
        {
            int side = Math.Min(w, h);
            reduction = side >= 8 * 128 ? 8 : side >= 4 * 128 ? 4 : side >= 2 * 128 ? 2 : 1;
        }

        var grey = ImageIO.DecodeGrey(bytes, reduction);
        width = known ? w : grey.Cols;
        height = known ? h : grey.Rows;
        return grey;
    }

    /// <summary>A 16 x 16 area-averaged thumbnail, zero mean and unit norm (all zeros for a flat image).</summary>
    private static float[] ThumbnailOf(Mat small)
    {
        using var thumb = new Mat();
        Cv2.Resize(small, thumb, new Size(ThumbnailSizePixels, ThumbnailSizePixels), 0, 0, InterpolationFlags.Area);
        using var floats = new Mat();
        thumb.ConvertTo(floats, MatType.CV_32F);
        var values = new float[ThumbnailSizePixels * ThumbnailSizePixels];
        float[] raw = MatRows.ToFloats(floats);
        double mean = raw.Average();
        double norm = Math.Sqrt(raw.Sum(v => (v - mean) * (v - mean)));
        if (norm < 1e-6)
        {
            return values;
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((raw[i] - mean) / norm);
        }

        return values;
    }

    /// <summary>The pHash of a 32 x 32 grey image and of its seven dihedral transforms.</summary>
    private static ulong[] DihedralHashesOf(Mat small)
    {
        using var floats = new Mat();
        small.ConvertTo(floats, MatType.CV_32F);
        using var dct = new Mat();
        Cv2.Dct(floats, dct);
        Span<float> block = stackalloc float[HashBlockSize * HashBlockSize];
        for (int v = 0; v < HashBlockSize; v++)
        {
            for (int u = 0; u < HashBlockSize; u++)
            {
                block[v * HashBlockSize + u] = dct.At<float>(v, u);
            }
        }

        // A horizontal flip multiplies DCT coefficient (v, u) by (-1)^u, a vertical flip by (-1)^v, a transpose swaps
        // u and v: all eight flips and right-angle rotations follow from one DCT.
        var hashes = new ulong[8];
        Span<float> variant = stackalloc float[HashBlockSize * HashBlockSize];
        for (int t = 0; t < 8; t++)
        {
            bool flipX = t is 1 or 3 or 5 or 7;
            bool flipY = t is 2 or 3 or 6 or 7;
            bool transpose = t >= 4;
            for (int v = 0; v < HashBlockSize; v++)
            {
                for (int u = 0; u < HashBlockSize; u++)
                {
                    float c = transpose ? block[u * HashBlockSize + v] : block[v * HashBlockSize + u];
                    if ((flipX && (u & 1) == 1) ^ (flipY && (v & 1) == 1))
                    {
                        c = -c;
                    }

                    variant[v * HashBlockSize + u] = c;
                }
            }

            hashes[t] = HashOf(variant);
        }

        return hashes;
    }

    /// <summary>Bit i is set when coefficient i is above the median of the 64 coefficients.</summary>
    private static ulong HashOf(ReadOnlySpan<float> coefficients)
    {
        Span<float> sorted = stackalloc float[coefficients.Length];
        coefficients.CopyTo(sorted);
        sorted.Sort();
        float median = (sorted[coefficients.Length / 2 - 1] + sorted[coefficients.Length / 2]) / 2;
        ulong hash = 0;
        for (int i = 0; i < coefficients.Length; i++)
        {
            if (coefficients[i] > median)
            {
                hash |= 1UL << i;
            }
        }

        return hash;
    }
}
