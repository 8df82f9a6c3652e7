using System.Globalization;
using System.Numerics;
using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Color;

/// <summary>Stain normalisation methods.</summary>
public enum StainMethod
{
    /// <summary>Macenko et al. 2009: stain vectors and concentrations mapped onto the target's.</summary>
    Macenko,

    /// <summary>Reinhard et al. 2001: CIELAB channel means and standard deviations matched to the target's.</summary>
    Reinhard,
}

/// <summary>
/// The result of normalising one image. When the image cannot be normalised (mostly white, tiny, a single colour),
/// <see cref="Image"/> is an unchanged copy, <see cref="Applied"/> is false and <see cref="SkipReason"/> says why:
/// never NaN pixels, never an exception.
/// </summary>
/// <param name="Image">The normalised image (or the unchanged copy).</param>
/// <param name="Applied">False when the image was passed through unchanged.</param>
/// <param name="SkipReason">Why it was passed through, else null.</param>
public sealed record StainNormalization(RgbaImage Image, bool Applied, string? SkipReason);

/// <summary>A stain normaliser fitted to a target image.</summary>
public interface IStainNormalizer
{
    /// <summary>The method.</summary>
    StainMethod Method { get; }

    /// <summary>Normalises <paramref name="source"/> towards the target (alpha kept).</summary>
    StainNormalization Normalize(RgbaImage source);
}

/// <summary>Creates normalisers.</summary>
public static class StainNormalizer
{
    /// <summary>
    /// Fits a normaliser of <paramref name="method"/> to <paramref name="target"/>. A target that cannot be fitted
    /// (no tissue, a single colour) raises <see cref="InvalidParameterException"/>.
    /// </summary>
    public static IStainNormalizer Fit(StainMethod method, RgbaImage target) => method switch
    {
        StainMethod.Macenko => MacenkoNormalizer.Fit(target),
        _ => ReinhardNormalizer.Fit(target),
    };

    /// <summary>Parses "macenko" or "reinhard" (case-insensitive).</summary>
    public static StainMethod ParseMethod(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "macenko" => StainMethod.Macenko,
        "reinhard" => StainMethod.Reinhard,
        _ => throw new InvalidParameterException($"unknown stain normalisation method '{text}' (use macenko or reinhard)"),
    };
}

/// <summary>
/// Macenko normalisation (the torchstain / TIAToolbox algorithm): the source's concentrations, from its own Macenko
/// stain matrix, are scaled so their 99th percentiles match the target's and recomposed with the target's matrix.
/// </summary>
public sealed class MacenkoNormalizer : IStainNormalizer
{
    private MacenkoNormalizer(StainEstimate target) => Target = target;

    /// <summary>The target's stain matrix and concentration percentiles.</summary>
    public StainEstimate Target { get; }

    /// <inheritdoc />
    public StainMethod Method => StainMethod.Macenko;

    /// <summary>Fits to a target image; <see cref="InvalidParameterException"/> when it cannot be fitted.</summary>
    public static MacenkoNormalizer Fit(RgbaImage target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var estimate = MacenkoEstimator.TryEstimate(target, out string? reason)
            ?? throw new InvalidParameterException($"cannot fit Macenko normalisation to the target: {reason}");
        return new MacenkoNormalizer(estimate);
    }

    /// <summary>Creates a normaliser from a known target estimate (e.g. stored with a model).</summary>
    public static MacenkoNormalizer FromEstimate(StainEstimate target) => new(target ?? throw new ArgumentNullException(nameof(target)));

    /// <inheritdoc />
    public StainNormalization Normalize(RgbaImage source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var estimate = MacenkoEstimator.TryEstimate(source, out string? reason);
        if (estimate is null)
        {
            return new StainNormalization(Copy(source), false, reason);
        }

        var (toH, toE) = MacenkoEstimator.PseudoInverse(estimate.Matrix);
        float scaleH = (float)(Target.MaxHematoxylin / estimate.MaxHematoxylin), scaleE = (float)(Target.MaxEosin / estimate.MaxEosin);
        toH *= scaleH;
        toE *= scaleE;
        var refH = Target.Matrix.Hematoxylin;
        var refE = Target.Matrix.Eosin;
        var density = OpticalDensity.Macenko;
        var od = density.Table;
        var result = Copy(source);
        var p = result.Pixels;
        for (int i = 0; i < p.Length; i += 4)
        {
            var v = new Vector3(od[p[i]], od[p[i + 1]], od[p[i + 2]]);
            float h = Vector3.Dot(toH, v), e = Vector3.Dot(toE, v);
            var mixed = refH * h + refE * e;
            p[i] = density.ToByte(mixed.X);
            p[i + 1] = density.ToByte(mixed.Y);
            p[i + 2] = density.ToByte(mixed.Z);
        }

        return new StainNormalization(result, true, null);
    }

    internal static RgbaImage Copy(RgbaImage image) => new(image.Width, image.Height, (byte[])image.Pixels.Clone());
}

/// <summary>Per-channel mean and standard deviation of CIELAB (L 0..100, a and b about -128..127).</summary>
/// <param name="Mean">Means of L, a, b.</param>
/// <param name="StdDev">Standard deviations of L, a, b.</param>
/// <param name="PixelCount">Tissue pixels the statistics were taken over.</param>
public sealed record LabStatistics(Vector3 Mean, Vector3 StdDev, int PixelCount)
{
    /// <summary>"L mean±sd a ... b ...".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"L {Mean.X:0.##}±{StdDev.X:0.##} a {Mean.Y:0.##}±{StdDev.Y:0.##} b {Mean.Z:0.##}±{StdDev.Z:0.##} (n={PixelCount})");
}

/// <summary>
/// Reinhard normalisation: every pixel's CIELAB channels are shifted and scaled so the tissue pixels' means and
/// standard deviations match the target's. Statistics are taken over tissue pixels only (some channel below 200),
/// so the amount of white glass in a tile does not change the result, and glass stays glass: pixels whose channels
/// are all at least 230 are left as they are, with a linear blend between 200 and 230. The scale is limited to
/// 0.2..5 per channel.
/// </summary>
public sealed class ReinhardNormalizer : IStainNormalizer
{
    /// <summary>A pixel is tissue when some channel is below this (not near-white glass).</summary>
    public const int TissueMaxChannel = 200;

    /// <summary>Pixels whose channels are all at least this are glass and left unchanged.</summary>
    public const int GlassMinChannel = 230;

    /// <summary>Fewest tissue pixels (and at least 1 % of the image) for statistics; fewer skip the image.</summary>
    public const int MinTissuePixels = 64;

    private const float MaxScale = 5f, MinStdDev = 1e-3f;

    private ReinhardNormalizer(LabStatistics target) => Target = target;

    /// <summary>The target's statistics.</summary>
    public LabStatistics Target { get; }

    /// <inheritdoc />
    public StainMethod Method => StainMethod.Reinhard;

    /// <summary>Fits to a target image; <see cref="InvalidParameterException"/> when it has too little tissue.</summary>
    public static ReinhardNormalizer Fit(RgbaImage target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var lab = ToLab(target);
        var stats = Statistics(target, lab, out string? reason)
            ?? throw new InvalidParameterException($"cannot fit Reinhard normalisation to the target: {reason}");
        return new ReinhardNormalizer(stats);
    }

    /// <summary>Creates a normaliser from known target statistics.</summary>
    public static ReinhardNormalizer FromStatistics(LabStatistics target) => new(target ?? throw new ArgumentNullException(nameof(target)));

    /// <summary>The tissue pixels' CIELAB statistics of an image, or null with a reason.</summary>
    public static LabStatistics? TryMeasure(RgbaImage image, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var lab = ToLab(image);
        return Statistics(image, lab, out reason);
    }

    /// <inheritdoc />
    public StainNormalization Normalize(RgbaImage source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var lab = ToLab(source);
        var stats = Statistics(source, lab, out string? reason);
        if (stats is null)
        {
            return new StainNormalization(MacenkoNormalizer.Copy(source), false, reason);
        }

        var scale = new Vector3(Scale(0, stats), Scale(1, stats), Scale(2, stats));
        var offset = Target.Mean - stats.Mean * scale;
        var src = source.Pixels;
        const float blend = 1f / (GlassMinChannel - TissueMaxChannel);
        int labRows = lab.Rows;
        for (int y = 0; y < labRows; y++)
        {
            var row = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Vector3>(MatRows.Row(lab, y));
            int o = y * source.Stride;
            for (int x = 0; x < row.Length; x++)
            {
                int i = o + x * 4;
                int min = Math.Min(src[i], Math.Min(src[i + 1], src[i + 2]));
                float weight = Math.Clamp((GlassMinChannel - min) * blend, 0f, 1f);
                var v = row[x];
                row[x] = v + (v * scale + offset - v) * weight;
            }
        }

        using var rgb = new Mat();
        Cv2.CvtColor(lab, rgb, ColorConversionCodes.Lab2RGB);
        using var bytes = new Mat();
        rgb.ConvertTo(bytes, MatType.CV_8UC3, 255.0); // rounds and saturates to 0..255
        var result = MacenkoNormalizer.Copy(source);
        var p = result.Pixels;
        int bytesRows = bytes.Rows;
        for (int y = 0; y < bytesRows; y++)
        {
            var row = MatRows.Row(bytes, y);
            int o = y * result.Stride;
            for (int x = 0, i = 0; i < row.Length; x++, i += 3)
            {
                int j = o + x * 4;
                if (p[j] >= GlassMinChannel && p[j + 1] >= GlassMinChannel && p[j + 2] >= GlassMinChannel)
                {
                    continue; // glass: keep the exact bytes (a Lab round trip may move them by one)
                }

                p[j] = row[i];
                p[j + 1] = row[i + 1];
                p[j + 2] = row[i + 2];
            }
        }

        return new StainNormalization(result, true, null);
    }

    private float Scale(int channel, LabStatistics source)
    {
        float s = channel switch { 0 => source.StdDev.X, 1 => source.StdDev.Y, _ => source.StdDev.Z };
        float t = channel switch { 0 => Target.StdDev.X, 1 => Target.StdDev.Y, _ => Target.StdDev.Z };
        return s < MinStdDev ? 1f : Math.Clamp(t / s, 1f / MaxScale, MaxScale);
    }

    /// <summary>RGB (alpha dropped) as 32-bit float CIELAB with sRGB gamma, L in 0..100.</summary>
    private static Mat ToLab(RgbaImage image)
    {
        using var rgb8 = MatRows.ToRgb(image);
        using var rgb = new Mat();
        rgb8.ConvertTo(rgb, MatType.CV_32FC3, 1.0 / 255.0);
        var lab = new Mat();
        Cv2.CvtColor(rgb, lab, ColorConversionCodes.RGB2Lab);
        return lab;
    }

    private static LabStatistics? Statistics(RgbaImage image, Mat lab, out string? reason)
    {
        var p = image.Pixels;
        int count = 0;
        double s0 = 0, s1 = 0, s2 = 0, q0 = 0, q1 = 0, q2 = 0;
        int labRows = lab.Rows;
        for (int y = 0; y < labRows; y++)
        {
            var row = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Vector3>(MatRows.Row(lab, y));
            int o = y * image.Stride;
            for (int x = 0; x < row.Length; x++)
            {
                int i = o + x * 4;
                if (p[i] >= TissueMaxChannel && p[i + 1] >= TissueMaxChannel && p[i + 2] >= TissueMaxChannel)
                {
                    continue;
                }

                var v = row[x];
                count++;
                s0 += v.X; s1 += v.Y; s2 += v.Z;
                q0 += v.X * v.X; q1 += v.Y * v.Y; q2 += v.Z * v.Z;
            }
        }

        int needed = Math.Max(MinTissuePixels, image.Width * image.Height / 100);
        if (count < needed)
        {
            reason = $"only {count} tissue pixels (at least {needed} needed): the image is mostly white or too small";
            return null;
        }

        var mean = new Vector3((float)(s0 / count), (float)(s1 / count), (float)(s2 / count));
        static float Sd(double sq, double mean, int n) => (float)Math.Sqrt(Math.Max(0, sq / n - mean * mean));
        var sd = new Vector3(Sd(q0, mean.X, count), Sd(q1, mean.Y, count), Sd(q2, mean.Z, count));
        reason = null;
        return new LabStatistics(mean, sd, count);
    }
}
