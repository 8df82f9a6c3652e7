using Histo.Color;
using Histo.Imaging;

namespace Histo.Patches;

/// <summary>
/// Settings of <see cref="Augmenter"/>: which perturbations run and their ranges. Null ranges switch a perturbation
/// off. Defaults: a random dihedral transform, HSV jitter (±10° hue, saturation x0.8..1.2, value x0.9..1.1) and stain
/// jitter (H and E concentrations x0.95..1.05, ±0.05 OD).
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>Apply one of the 8 dihedral transforms, uniformly chosen (default true).</summary>
    public bool Dihedral { get; init; } = true;

    /// <summary>HSV jitter ranges, or null for none.</summary>
    public HsvJitterRanges? Hsv { get; init; } = new();

    /// <summary>Stain jitter ranges, or null for none.</summary>
    public StainJitterRanges? Stain { get; init; } = new();

    /// <summary>Stain vectors for the stain jitter (default Ruifrok's H&amp;E).</summary>
    public StainMatrix? Stains { get; init; }
}

/// <summary>The perturbations one seed chose.</summary>
/// <param name="Transform">The dihedral transform.</param>
/// <param name="Hsv">The HSV jitter (identity when off).</param>
/// <param name="Stain">The stain jitter (null when off).</param>
public sealed record AugmentationParameters(DihedralTransform Transform, HsvJitter Hsv, StainJitter? Stain);

/// <summary>
/// Seeded, reproducible augmentation: the seed alone decides every random choice (through SplitMix64, stable across
/// .NET versions), so the same image and seed always give the same bytes. Order: stain jitter, HSV jitter, dihedral.
/// </summary>
public sealed class Augmenter
{
    /// <summary>Creates an augmenter; ranges are validated here.</summary>
    public Augmenter(AugmentationOptions? options = null)
    {
        Options = options ?? new AugmentationOptions();
        Options.Hsv?.Validate();
        Options.Stain?.Validate();
    }

    /// <summary>The settings in use.</summary>
    public AugmentationOptions Options { get; }

    /// <summary>The perturbations chosen by <paramref name="seed"/>.</summary>
    public AugmentationParameters Parameters(ulong seed)
    {
        var random = new SplitMix64(seed);
        var transform = Options.Dihedral ? (DihedralTransform)random.NextInt(8) : DihedralTransform.Identity;
        var hsv = Options.Hsv is { } h ? HsvJitter.Sample(h, ref random) : HsvJitter.Identity;
        var stain = Options.Stain is { } s ? StainJitter.Sample(s, ref random, Options.Stains) : null;
        return new AugmentationParameters(transform, hsv, stain);
    }

    /// <summary>An augmented copy of <paramref name="image"/> for <paramref name="seed"/>.</summary>
    public RgbaImage Augment(RgbaImage image, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(image);
        var p = Parameters(seed);
        var pixels = (byte[])image.Pixels.Clone();
        p.Stain?.ApplyInPlace(pixels);
        if (p.Hsv != HsvJitter.Identity)
        {
            p.Hsv.ApplyInPlace(pixels);
        }

        var colored = new RgbaImage(image.Width, image.Height, pixels);
        return p.Transform == DihedralTransform.Identity ? colored : Dihedral.Apply(colored, p.Transform);
    }

    /// <summary>A per-item seed from a run seed and an item index (epoch x dataset size + index, say).</summary>
    public static ulong SeedFor(ulong runSeed, long index)
    {
        var random = new SplitMix64(runSeed ^ (0x9E3779B97F4A7C15UL * (ulong)(index + 1)));
        return random.Next();
    }
}
