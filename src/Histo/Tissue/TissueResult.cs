using Histo.Imaging;
using Histo.Maps;

namespace Histo.Tissue;

/// <summary>
/// The outcome of tissue detection. An empty mask is a valid result (<see cref="IsEmpty"/>, with a warning), not an
/// error: a slide of blank glass or pen marks only has no tissue.
/// </summary>
public sealed class TissueResult
{
    internal TissueResult(RasterMask mask, RasterMask penMask, RgbaImage image, TissueMethod method, int levelIndex, double? maskMpp, double? maskMppY,
        long tissuePixels, long penPixels, double threshold, IReadOnlyList<HistoWarning> warnings)
    {
        Mask = mask;
        PenMask = penMask;
        Image = image;
        Method = method;
        LevelIndex = levelIndex;
        MaskMpp = maskMpp;
        _maskMppY = maskMppY ?? maskMpp;
        TissuePixelCount = tissuePixels;
        PenPixelCount = penPixels;
        Threshold = threshold;
        Warnings = warnings;
    }

    private readonly double? _maskMppY;

    /// <summary>The mask: 255 = tissue, 0 = background, with its level-0 geometry.</summary>
    public RasterMask Mask { get; }

    /// <summary>
    /// Pixels classified as pen ink (255) including the blurred rim of each stroke, same geometry as <see cref="Mask"/>;
    /// all zero when pen rejection is off.
    /// </summary>
    public RasterMask PenMask { get; }

    /// <summary>The pixels the mask was computed from (same size as the mask, composited over white); for overlays.</summary>
    public RgbaImage Image { get; }

    /// <summary>The candidate rule used.</summary>
    public TissueMethod Method { get; }

    /// <summary>The pyramid level the pixels were read from (0 for a plain image buffer).</summary>
    public int LevelIndex { get; }

    /// <summary>Microns per mask pixel (horizontal), or null when the slide's MPP is unknown.</summary>
    public double? MaskMpp { get; }

    /// <summary>Number of mask pixels marked tissue.</summary>
    public long TissuePixelCount { get; }

    /// <summary>Number of mask pixels classified as pen ink (excluded from the mask), before the halo around strokes.</summary>
    public long PenPixelCount { get; }

    /// <summary>
    /// The threshold actually applied: an a* value (CIELAB units) for <see cref="TissueMethod.Lab"/>, a saturation
    /// (0..1) for <see cref="TissueMethod.Otsu"/>.
    /// </summary>
    public double Threshold { get; }

    /// <summary>Fraction (0..1) of the mask marked tissue.</summary>
    public double TissueFraction => (double)TissuePixelCount / ((long)Mask.Width * Mask.Height);

    /// <summary>Fraction (0..1) of the mask classified as pen ink.</summary>
    public double PenFraction => (double)PenPixelCount / ((long)Mask.Width * Mask.Height);

    /// <summary>True when no pixel is tissue.</summary>
    public bool IsEmpty => TissuePixelCount == 0;

    /// <summary>Tissue area in mm², when the MPP is known.</summary>
    public double? TissueAreaMm2 => MaskMpp is { } mppX && _maskMppY is { } mppY ? TissuePixelCount * mppX * mppY / 1e6 : null;

    /// <summary>Things the caller should tell the user (no tissue found, MPP unknown, ...).</summary>
    public IReadOnlyList<HistoWarning> Warnings { get; }
}
