using System.Globalization;
using Histo.Imaging;

namespace Histo.Color;

/// <summary>
/// Ranges of the random HSV perturbation. Defaults: hue shifted by up to ±10°, saturation scaled by 0.8..1.2,
/// value (brightness) scaled by 0.9..1.1, each drawn uniformly and independently per image.
/// </summary>
public sealed record HsvJitterRanges
{
    /// <summary>Largest hue shift in degrees, either way (default 10).</summary>
    public double MaxHueShiftDegrees { get; init; } = 10;

    /// <summary>Largest relative change of saturation, either way (default 0.2: scale 0.8..1.2).</summary>
    public double MaxSaturationChange { get; init; } = 0.2;

    /// <summary>Largest relative change of value, either way (default 0.1: scale 0.9..1.1).</summary>
    public double MaxValueChange { get; init; } = 0.1;

    /// <summary>Throws <see cref="InvalidParameterException"/> for out-of-range values.</summary>
    public void Validate()
    {
        if (!(MaxHueShiftDegrees is >= 0 and <= 180) || !(MaxSaturationChange is >= 0 and < 1) || !(MaxValueChange is >= 0 and < 1))
        {
            throw new InvalidParameterException(string.Create(CultureInfo.InvariantCulture,
                $"HSV jitter ranges out of range: hue {MaxHueShiftDegrees} (0..180 degrees), saturation {MaxSaturationChange} and value {MaxValueChange} (0..1, exclusive)"));
        }
    }
}

/// <summary>One HSV perturbation: hue shift in degrees and multiplicative saturation and value scales.</summary>
/// <param name="HueShiftDegrees">Added to every hue (wraps around).</param>
/// <param name="SaturationScale">Saturation is multiplied by this (then clamped to 0..1).</param>
/// <param name="ValueScale">Value is multiplied by this (then clamped to 0..1).</param>
public readonly record struct HsvJitter(double HueShiftDegrees, double SaturationScale, double ValueScale)
{
    /// <summary>No change.</summary>
    public static HsvJitter Identity => new(0, 1, 1);

    /// <summary>Draws a perturbation from <paramref name="ranges"/>; the same seed always gives the same perturbation.</summary>
    public static HsvJitter Sample(HsvJitterRanges ranges, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var random = new SplitMix64(seed);
        return Sample(ranges, ref random);
    }

    internal static HsvJitter Sample(HsvJitterRanges ranges, ref SplitMix64 random)
    {
        ranges.Validate();
        return new HsvJitter(
            random.Uniform(-ranges.MaxHueShiftDegrees, ranges.MaxHueShiftDegrees),
            1 + random.Uniform(-ranges.MaxSaturationChange, ranges.MaxSaturationChange),
            1 + random.Uniform(-ranges.MaxValueChange, ranges.MaxValueChange));
    }

    /// <summary>Returns a perturbed copy (alpha kept). Works row by row on the pixel spans; no per-pixel allocation.</summary>
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
        float hueShift = (float)(((HueShiftDegrees % 360) + 360) % 360 / 60.0); // in sextants
        float saturationScale = (float)SaturationScale, valueScale = (float)ValueScale;
        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            float r = rgba[i] / 255f, g = rgba[i + 1] / 255f, b = rgba[i + 2] / 255f;
            float max = MathF.Max(r, MathF.Max(g, b)), min = MathF.Min(r, MathF.Min(g, b));
            float delta = max - min;
            float h = 0;
            if (delta > 0)
            {
                h = max == r ? (g - b) / delta : max == g ? 2 + (b - r) / delta : 4 + (r - g) / delta;
            }

            float s = max > 0 ? delta / max : 0;
            h += hueShift;
            h -= 6 * MathF.Floor(h / 6);
            s = Math.Clamp(s * saturationScale, 0, 1);
            float v = Math.Clamp(max * valueScale, 0, 1);

            // HSV -> RGB
            int sector = Math.Min((int)h, 5);
            float f = h - sector;
            float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            (r, g, b) = sector switch
            {
                0 => (v, t, p),
                1 => (q, v, p),
                2 => (p, v, t),
                3 => (p, q, v),
                4 => (t, p, v),
                _ => (v, p, q),
            };
            rgba[i] = (byte)(r * 255f + 0.5f);
            rgba[i + 1] = (byte)(g * 255f + 0.5f);
            rgba[i + 2] = (byte)(b * 255f + 0.5f);
        }
    }
}
