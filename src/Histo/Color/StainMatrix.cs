using System.Globalization;
using System.Numerics;
using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Color;

/// <summary>
/// Haematoxylin and eosin colours as unit vectors of optical density (R, G, B), the model of Beer-Lambert stain
/// separation: a pixel's OD = H concentration x <see cref="Hematoxylin"/> + E concentration x <see cref="Eosin"/>.
/// </summary>
/// <param name="Hematoxylin">OD direction of haematoxylin (unit length, R component the larger of the two).</param>
/// <param name="Eosin">OD direction of eosin (unit length).</param>
public sealed record StainMatrix(Vector3 Hematoxylin, Vector3 Eosin)
{
    /// <summary>Ruifrok and Johnston's (2001) H&amp;E vectors, as in scikit-image's rgb_from_hed.</summary>
    public static StainMatrix Ruifrok { get; } = new(
        Vector3.Normalize(new Vector3(0.65f, 0.70f, 0.29f)),
        Vector3.Normalize(new Vector3(0.07f, 0.99f, 0.11f)));

    /// <summary>The unit vector orthogonal to both stains (with a positive sum): what H and E do not explain.</summary>
    public Vector3 Residual
    {
        get
        {
            var r = Vector3.Normalize(Vector3.Cross(Hematoxylin, Eosin));
            return r.X + r.Y + r.Z < 0 ? -r : r;
        }
    }

    /// <summary>"H (r, g, b) E (r, g, b)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"H ({Hematoxylin.X:0.###}, {Hematoxylin.Y:0.###}, {Hematoxylin.Z:0.###}) E ({Eosin.X:0.###}, {Eosin.Y:0.###}, {Eosin.Z:0.###})");
}

/// <summary>Optical density lookup: OD = -ln((I + 1) / Io) for 8-bit intensities, one table per light intensity.</summary>
internal sealed class OpticalDensity
{
    private OpticalDensity(double io)
    {
        Io = io;
        for (int v = 0; v < 256; v++)
        {
            Table[v] = (float)-Math.Log((v + 1) / io);
        }
    }

    /// <summary>The table for Io = 240, the background intensity Macenko et al. use.</summary>
    public static OpticalDensity Macenko { get; } = new(240);

    /// <summary>The table for Io = 256, which maps 255 to OD 0 and inverts exactly (I = 256 exp(-OD) - 1).</summary>
    public static OpticalDensity Exact { get; } = new(256);

    /// <summary>Light intensity Io.</summary>
    public double Io { get; }

    /// <summary>OD per 8-bit value.</summary>
    public float[] Table { get; } = new float[256];

    /// <summary>The 8-bit intensity for an optical density (rounded, clamped to 0..255).</summary>
    public byte ToByte(float od)
    {
        float value = (float)Io * MathF.Exp(-od) - (Io == 256 ? 1 : 0);
        return value >= 254.5f ? (byte)255 : value <= 0 ? (byte)0 : (byte)(value + 0.5f);
    }
}

/// <summary>A stain matrix estimated from one image, with the 99th-percentile concentrations.</summary>
/// <param name="Matrix">The H and E vectors.</param>
/// <param name="MaxHematoxylin">99th percentile of haematoxylin concentration over all pixels.</param>
/// <param name="MaxEosin">99th percentile of eosin concentration over all pixels.</param>
/// <param name="TissuePixelCount">Pixels that took part in the fit (OD at least 0.15 in every channel).</param>
public sealed record StainEstimate(StainMatrix Matrix, double MaxHematoxylin, double MaxEosin, int TissuePixelCount);

/// <summary>
/// Macenko et al. (2009) stain estimation, as in torchstain / TIAToolbox: optical density with Io = 240, pixels with
/// OD below <see cref="MinOpticalDensity"/> in any channel dropped, the plane of the two largest OD eigenvectors, the
/// 1st and 99th percentile angles in that plane as the stain directions, and 99th-percentile concentrations.
/// </summary>
public static class MacenkoEstimator
{
    /// <summary>Pixels with OD below this in any channel are background (torchstain's beta).</summary>
    public const float MinOpticalDensity = 0.15f;

    /// <summary>Percentile of the angle distribution used for the stain directions (torchstain's alpha).</summary>
    public const double AnglePercentile = 1.0;

    /// <summary>Fewest tissue pixels a fit needs; fewer give null (white or tiny images).</summary>
    public const int MinTissuePixels = 100;

    /// <summary>
    /// Estimates the stains of an image, or returns null with <paramref name="reason"/> when it cannot: too few tissue
    /// pixels (mostly white or tiny images), degenerate colours (a single hue), or a non-finite result.
    /// </summary>
    public static StainEstimate? TryEstimate(RgbaImage image, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(image);
        var od = OpticalDensity.Macenko.Table;
        var pixels = image.Pixels;
        int n = image.Width * image.Height;

        // Pass 1: tissue pixels' OD mean and covariance (double sums; no per-pixel allocation).
        int count = 0;
        double sr = 0, sg = 0, sb = 0, srr = 0, sgg = 0, sbb = 0, srg = 0, srb = 0, sgb = 0;
        for (int i = 0; i < pixels.Length; i += 4)
        {
            float r = od[pixels[i]], g = od[pixels[i + 1]], b = od[pixels[i + 2]];
            if (r < MinOpticalDensity || g < MinOpticalDensity || b < MinOpticalDensity)
            {
                continue;
            }

            count++;
            sr += r; sg += g; sb += b;
            srr += r * r; sgg += g * g; sbb += b * b;
            srg += r * g; srb += r * b; sgb += g * b;
        }

        if (count < MinTissuePixels)
        {
            reason = $"only {count} tissue pixels (at least {MinTissuePixels} needed): the image is mostly white or too small";
            return null;
        }

        double mr = sr / count, mg = sg / count, mb = sb / count, d = count - 1;
        var cov = new double[,]
        {
            { (srr - count * mr * mr) / d, (srg - count * mr * mg) / d, (srb - count * mr * mb) / d },
            { (srg - count * mr * mg) / d, (sgg - count * mg * mg) / d, (sgb - count * mg * mb) / d },
            { (srb - count * mr * mb) / d, (sgb - count * mg * mb) / d, (sbb - count * mb * mb) / d },
        };
        var (principal, second) = TopEigenvectors(cov);
        if (principal.X + principal.Y + principal.Z < 0)
        {
            principal = -principal;
        }

        // Pass 2: angle of each tissue pixel in the plane (second, principal).
        var angles = new float[count];
        int k = 0;
        for (int i = 0; i < pixels.Length; i += 4)
        {
            float r = od[pixels[i]], g = od[pixels[i + 1]], b = od[pixels[i + 2]];
            if (r < MinOpticalDensity || g < MinOpticalDensity || b < MinOpticalDensity)
            {
                continue;
            }

            var v = new Vector3(r, g, b);
            angles[k++] = MathF.Atan2(Vector3.Dot(v, principal), Vector3.Dot(v, second));
        }

        double minPhi = Percentiles.Of(angles, AnglePercentile), maxPhi = Percentiles.Of(angles, 100 - AnglePercentile);
        var vMin = Vector3.Normalize(second * (float)Math.Cos(minPhi) + principal * (float)Math.Sin(minPhi));
        var vMax = Vector3.Normalize(second * (float)Math.Cos(maxPhi) + principal * (float)Math.Sin(maxPhi));
        var (h, e) = vMin.X > vMax.X ? (vMin, vMax) : (vMax, vMin);
        h = h.X + h.Y + h.Z < 0 ? -h : h;
        e = e.X + e.Y + e.Z < 0 ? -e : e;
        if (Vector3.Dot(h, e) > 0.9999f || !IsFinite(h) || !IsFinite(e))
        {
            reason = "the tissue has a single colour: haematoxylin and eosin cannot be told apart";
            return null;
        }

        var matrix = new StainMatrix(h, e);
        var (maxH, maxE) = MaxConcentrations(image, matrix);
        if (!(maxH > 1e-6) || !(maxE > 1e-6) || !double.IsFinite(maxH) || !double.IsFinite(maxE))
        {
            reason = "the stain concentrations are all near zero";
            return null;
        }

        reason = null;
        return new StainEstimate(matrix, maxH, maxE, count);
    }

    /// <summary>The pseudo-inverse rows (2 x 3) that map an OD vector to (H, E) concentrations by least squares.</summary>
    internal static (Vector3 ToH, Vector3 ToE) PseudoInverse(StainMatrix m)
    {
        // (A^T A)^-1 A^T for A = [h e] (3 x 2).
        float hh = Vector3.Dot(m.Hematoxylin, m.Hematoxylin), ee = Vector3.Dot(m.Eosin, m.Eosin), he = Vector3.Dot(m.Hematoxylin, m.Eosin);
        float det = hh * ee - he * he;
        return ((m.Hematoxylin * ee - m.Eosin * he) / det, (m.Eosin * hh - m.Hematoxylin * he) / det);
    }

    /// <summary>99th percentiles of H and E concentrations over all pixels.</summary>
    private static (double MaxH, double MaxE) MaxConcentrations(RgbaImage image, StainMatrix matrix)
    {
        var od = OpticalDensity.Macenko.Table;
        var (toH, toE) = PseudoInverse(matrix);
        var pixels = image.Pixels;
        int n = image.Width * image.Height;
        var ch = new float[n];
        var ce = new float[n];
        for (int i = 0, p = 0; p < n; i += 4, p++)
        {
            var v = new Vector3(od[pixels[i]], od[pixels[i + 1]], od[pixels[i + 2]]);
            ch[p] = Vector3.Dot(toH, v);
            ce[p] = Vector3.Dot(toE, v);
        }

        return (Percentiles.Of(ch, 99), Percentiles.Of(ce, 99));
    }

    private static (Vector3 Principal, Vector3 Second) TopEigenvectors(double[,] symmetric)
    {
        using var m = MatRows.WrapMatrix(symmetric);
        using var values = new Mat();
        using var vectors = new Mat();
        Cv2.Eigen(m, values, vectors); // eigenvalues descending, eigenvectors as rows
        Vector3 Row(int r) => new((float)vectors.At<double>(r, 0), (float)vectors.At<double>(r, 1), (float)vectors.At<double>(r, 2));
        return (Row(0), Row(1));
    }

    private static bool IsFinite(Vector3 v) => float.IsFinite(v.X) && float.IsFinite(v.Y) && float.IsFinite(v.Z);
}
