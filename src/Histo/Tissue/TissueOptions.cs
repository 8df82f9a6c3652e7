using System.Globalization;

namespace Histo.Tissue;

/// <summary>How candidate tissue pixels are picked before morphological clean-up.</summary>
public enum TissueMethod
{
    /// <summary>
    /// The BACH-winning seed's rule: convert to CIELAB and keep pixels whose a* (redness) exceeds 1.1 x the image's
    /// mean a*. The threshold is clamped to [<see cref="TissueOptions.LabMinThreshold"/>,
    /// <see cref="TissueOptions.LabMaxThreshold"/>]: the floor stops a blank image from marking ~40 % of its noise as
    /// tissue, the cap stops an image full of tissue from losing its paler half.
    /// </summary>
    Lab,

    /// <summary>
    /// Otsu's threshold on HSV saturation, clamped to [<see cref="TissueOptions.OtsuMinSaturation"/>,
    /// <see cref="TissueOptions.OtsuMaxSaturation"/>] for the same two reasons.
    /// </summary>
    Otsu,
}

/// <summary>
/// Settings of <see cref="TissueDetector"/>. Sizes with a µm unit apply when the slide's microns per pixel are known;
/// otherwise the fallbacks relative to the mask size are used (documented per property).
/// </summary>
public sealed record TissueOptions
{
    /// <summary>Candidate rule (default <see cref="TissueMethod.Lab"/>).</summary>
    public TissueMethod Method { get; init; } = TissueMethod.Lab;

    /// <summary>Wanted mask resolution in µm per mask pixel when the slide's MPP is known (default 8).</summary>
    public double MaskMpp { get; init; } = 8.0;

    /// <summary>
    /// The mask is made finer than <see cref="MaskMpp"/> when needed so its longer side has at least this many pixels
    /// (small images such as a 2048 x 1536 microscopy field keep a useful mask); never finer than level 0. Default 512.
    /// </summary>
    public int MinMaskLongSidePixels { get; init; } = 512;

    /// <summary>
    /// When the MPP is unknown: the level whose longer side is closest to this many pixels is used as it is; if even
    /// that level is more than twice as long, it is shrunk to this size. Default 2048.
    /// </summary>
    public int FallbackMaskLongSidePixels { get; init; } = 2048;

    /// <summary>Lab method: the factor on mean(a*) (the seed's 1.1).</summary>
    public double LabMeanFactor { get; init; } = 1.1;

    /// <summary>Lab method: absolute floor of the a* threshold (CIELAB units; glass is about 0 to 2). Default 5.</summary>
    public double LabMinThreshold { get; init; } = 5.0;

    /// <summary>Lab method: cap on the a* threshold (pale stroma and fat septa are about 8 to 15). Default 10.</summary>
    public double LabMaxThreshold { get; init; } = 10.0;

    /// <summary>Otsu method: floor of the saturation threshold (0..1; glass is below 0.04, dust and stain haze up to 0.1). Default 0.1.</summary>
    public double OtsuMinSaturation { get; init; } = 0.10;

    /// <summary>Otsu method: cap of the saturation threshold (0..1). Default 0.15.</summary>
    public double OtsuMaxSaturation { get; init; } = 0.15;

    /// <summary>Exclude blue, green, black and red ink (pen marks) from the mask. Default true.</summary>
    public bool RejectPenMarks { get; init; } = true;

    /// <summary>
    /// Radius of the elliptical closing that bridges gaps between tissue fibres, in µm (default 24). Without MPP:
    /// one mask pixel per 256 pixels of the mask's longer side (at least 1).
    /// </summary>
    public double CloseRadiusUm { get; init; } = 24.0;

    /// <summary>Fill background holes enclosed by tissue (lumens, fat) before pen marks are cut out. Default true.</summary>
    public bool FillHoles { get; init; } = true;

    /// <summary>
    /// Tissue pieces smaller than this area in µm² are dropped (default 10,000 µm², a 100 x 100 µm square). Without
    /// MPP: pieces smaller than 1/10,000 of the mask's area.
    /// </summary>
    public double MinObjectAreaUm2 { get; init; } = 10_000;

    /// <summary>Throws <see cref="InvalidParameterException"/> when a value is out of range.</summary>
    public void Validate()
    {
        Require(MaskMpp is > 0 and <= 1000, nameof(MaskMpp), MaskMpp, "between 0 and 1000 µm/px");
        Require(MinMaskLongSidePixels is >= 1 and <= 65536, nameof(MinMaskLongSidePixels), MinMaskLongSidePixels, "1..65536");
        Require(FallbackMaskLongSidePixels is >= 16 and <= 65536, nameof(FallbackMaskLongSidePixels), FallbackMaskLongSidePixels, "16..65536");
        Require(LabMeanFactor is > 0 and < 10, nameof(LabMeanFactor), LabMeanFactor, "between 0 and 10");
        Require(LabMinThreshold is >= -128 and <= 127 && LabMaxThreshold >= LabMinThreshold && LabMaxThreshold <= 127,
            nameof(LabMaxThreshold), LabMaxThreshold, $"a* thresholds with floor <= cap in -128..127 (floor {LabMinThreshold.ToString(CultureInfo.InvariantCulture)})");
        Require(OtsuMinSaturation is >= 0 and <= 1 && OtsuMaxSaturation >= OtsuMinSaturation && OtsuMaxSaturation <= 1,
            nameof(OtsuMaxSaturation), OtsuMaxSaturation, "saturations with floor <= cap in 0..1");
        Require(CloseRadiusUm is >= 0 and <= 10_000, nameof(CloseRadiusUm), CloseRadiusUm, "0..10000 µm");
        Require(MinObjectAreaUm2 is >= 0 and <= 1e12, nameof(MinObjectAreaUm2), MinObjectAreaUm2, "0..1e12 µm²");
    }

    private static void Require(bool ok, string name, double value, string range)
    {
        if (!ok)
        {
            throw new InvalidParameterException(string.Create(CultureInfo.InvariantCulture, $"tissue option {name} = {value} is out of range (expected {range})"));
        }
    }
}
