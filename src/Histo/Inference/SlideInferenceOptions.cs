using System.Globalization;
using Histo.Maps;

namespace Histo.Inference;

/// <summary>Settings of <see cref="SlideInference"/>.</summary>
public sealed record SlideInferenceOptions
{
    /// <summary>Patches per model call (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Threads reading and decoding patches while the model computes (default: half the cores, at least 1).</summary>
    public int ReaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>
    /// Step between patches in patch pixels. A smaller stride gives a finer map: each map cell is one stride wide and
    /// averages the probabilities of every patch covering its centre. Default (null): the card's crop stride when the
    /// model was trained on sliding-window crops (the seed's Part B maps: 41.6 µm cells under 628 µm crops), else the
    /// patch size, shortened on a slide with MPP so that map cells are at most
    /// <see cref="SlideInference.MaxDefaultCellMicrons"/> (overlapping patches). See
    /// <see cref="SlideInference.DefaultStridePixels"/>.
    /// </summary>
    public int? StridePixels { get; init; }

    /// <summary>
    /// Patches (and map cells) with less region of interest than this fraction are skipped (default 0.05, the seed's
    /// 5 %); 0 keeps every grid position.
    /// </summary>
    public double MinTissueFraction { get; init; } = 0.05;

    /// <summary>Where patches may lie (default: detected tissue).</summary>
    public RegionOfInterest Region { get; init; } = new RegionOfInterest.DetectedTissue();

    /// <summary>The class-map rule; null = the card's tuned thresholds when it has them, else argmax.</summary>
    public ClassMapRule? Rule { get; init; }

    /// <summary>Longer side of the thumbnail under the overlay, in pixels (default 1024).</summary>
    public int ThumbnailMaxPixels { get; init; } = 1024;

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (BatchSize is < 1 or > 4096)
        {
            throw new InvalidParameterException($"batch size must be between 1 and 4096, got {BatchSize}");
        }

        if (ReaderThreads is < 1 or > 256)
        {
            throw new InvalidParameterException($"reader threads must be between 1 and 256, got {ReaderThreads}");
        }

        if (StridePixels is < 1)
        {
            throw new InvalidParameterException($"stride must be at least 1 pixel, got {StridePixels}");
        }

        if (!(MinTissueFraction is >= 0 and <= 1))
        {
            throw new InvalidParameterException($"minimum tissue fraction must be between 0 and 1, got {MinTissueFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        if (ThumbnailMaxPixels < 16)
        {
            throw new InvalidParameterException($"thumbnail size must be at least 16 pixels, got {ThumbnailMaxPixels}");
        }
    }
}
