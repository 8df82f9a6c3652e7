using System.Globalization;
using System.Numerics;
using Histo.Imaging;

namespace Histo.Color;

/// <summary>
/// Ranges of the random stain perturbation (Tellez et al. 2018, "HED jitter"): each stain's concentration c becomes
/// c x alpha + beta with alpha uniform in 1 ± <see cref="MaxScaleChange"/> and beta uniform in ±<see cref="MaxShift"/>
/// (optical-density units), drawn independently for haematoxylin and eosin. Defaults 0.05 and 0.05 (Tellez's "light").
/// </summary>
public sealed record StainJitterRanges
{
    /// <summary>Largest relative change of a concentration, either way (default 0.05).</summary>
    public double MaxScaleChange { get; init; } = 0.05;

    /// <summary>Largest shift of a concentration in OD units, either way (default 0.05).</summary>
    public double MaxShift { get; init; } = 0.05;

    /// <summary>Throws <see cref="InvalidParameterException"/> for out-of-range values.</summary>
    public void Validate()
    {
        if (!(MaxScaleChange is >= 0 and < 1) || !(MaxShift is >= 0 and <= 1))
        {
            throw new InvalidParameterException(string.Create(CultureInfo.InvariantCulture,
                $"stain jitter ranges out of range: scale change {MaxScaleChange} (0..1, exclusive), shift {MaxShift} (0..1 OD)"));
        }
    }
}

/// <summary>
/// One stain perturbation. Pixels are decomposed by Beer-Lambert into haematoxylin, eosin and a residual (the
/// direction orthogonal to both) with an exact inverse, the H and E concentrations are scaled and shifted, and the
/// pixel is recomposed; the residual is kept, so the identity perturbation returns the image unchanged.
/// </summary>
/// <param name="Stains">The stain vectors (default Ruifrok's H&amp;E).</param>
/// <param name="HematoxylinScale">Factor on the haematoxylin concentration.</param>
/// <param name="HematoxylinShift">Added to the haematoxylin concentration (OD units).</param>
/// <param name="EosinScale">Factor on the eosin concentration.</param>
/// <param name="EosinShift">Added to the eosin concentration (OD units).</param>
public sealed record StainJitter(StainMatrix Stains, double HematoxylinScale, double HematoxylinShift, double EosinScale, double EosinShift)
{
    /// <summary>No change (with Ruifrok's vectors).</summary>
    public static StainJitter Identity { get; } = new(StainMatrix.Ruifrok, 1, 0, 1, 0);

    /// <summary>Draws a perturbation; the same seed always gives the same perturbation.</summary>
    public static StainJitter Sample(StainJitterRanges ranges, ulong seed, StainMatrix? stains = null)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var random = new SplitMix64(seed);
        return Sample(ranges, ref random, stains);
    }

    internal static StainJitter Sample(StainJitterRanges ranges, ref SplitMix64 random, StainMatrix? stains)
    {
        ranges.Validate();
        double a = ranges.MaxScaleChange, b = ranges.MaxShift;
        return new StainJitter(stains ?? StainMatrix.Ruifrok,
            1 + random.Uniform(-a, a), random.Uniform(-b, b), 1 + random.Uniform(-a, a), random.Uniform(-b, b));
    }

    /// <summary>Returns a perturbed copy (alpha kept); row spans, no per-pixel allocation.</summary>
    public RgbaImage Apply(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new RgbaImage(image.Width, image.Height, (byte[])image.Pixels.Clone());
        ApplyInPlace(result.Pixels);
        return result;
    }

    /// <summary>Perturbs packed RGBA pixels in place.</summary>
    public void ApplyInPlace(Span<byte> rgba)
    {
        ArgumentNullException.ThrowIfNull(Stains);
        Vector3 h = Stains.Hematoxylin, e = Stains.Eosin, r = Stains.Residual;
        // Rows of the inverse of the matrix with columns h, e, r: concentration = row . OD.
        Matrix4x4 forward = new(h.X, h.Y, h.Z, 0, e.X, e.Y, e.Z, 0, r.X, r.Y, r.Z, 0, 0, 0, 0, 1);
        if (!Matrix4x4.Invert(forward, out var inverse))
        {
            throw new InvalidParameterException($"stain vectors {Stains} are not independent");
        }

        var density = OpticalDensity.Exact;
        var od = density.Table;
        float hs = (float)HematoxylinScale, hb = (float)HematoxylinShift, es = (float)EosinScale, eb = (float)EosinShift;
        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            var v = new Vector3(od[rgba[i]], od[rgba[i + 1]], od[rgba[i + 2]]);
            var c = Vector3.Transform(v, inverse); // (H, E, residual) concentrations
            var mixed = h * (c.X * hs + hb) + e * (c.Y * es + eb) + r * c.Z;
            rgba[i] = density.ToByte(mixed.X);
            rgba[i + 1] = density.ToByte(mixed.Y);
            rgba[i + 2] = density.ToByte(mixed.Z);
        }
    }
}
