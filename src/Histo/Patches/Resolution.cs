using System.Globalization;
using Histo.Slides;

namespace Histo.Patches;

/// <summary>The unit a <see cref="Resolution"/> is given in.</summary>
public enum ResolutionUnit
{
    /// <summary>A pyramid level index (0 = full resolution); the default, so <c>default(Resolution)</c> is level 0.</summary>
    Level,

    /// <summary>Microns per pixel.</summary>
    Mpp,

    /// <summary>Objective magnification (20 for "20x").</summary>
    Magnification,
}

/// <summary>
/// A resolution that always carries its unit: microns per pixel, objective magnification or a pyramid level.
/// <see cref="Resolve"/> turns it into a level-0 downsample for one slide, falling back to level 0 (with a warning)
/// when the slide lacks the metadata the unit needs.
/// </summary>
public readonly record struct Resolution
{
    private Resolution(ResolutionUnit unit, double value) => (Unit, Value) = (unit, value);

    /// <summary>The unit.</summary>
    public ResolutionUnit Unit { get; }

    /// <summary>The value in <see cref="Unit"/>: µm/px, magnification, or level index.</summary>
    public double Value { get; }

    /// <summary>Full resolution (level 0).</summary>
    public static Resolution Native => Level(0);

    /// <summary>A resolution in microns per pixel (e.g. 0.5).</summary>
    public static Resolution Mpp(double micronsPerPixel)
    {
        if (!(micronsPerPixel > 0) || !double.IsFinite(micronsPerPixel) || micronsPerPixel > 1000)
        {
            throw new InvalidParameterException($"microns per pixel must be between 0 and 1000, got {Format(micronsPerPixel)}");
        }

        return new Resolution(ResolutionUnit.Mpp, micronsPerPixel);
    }

    /// <summary>A resolution as an objective magnification (20 for "20x").</summary>
    public static Resolution Magnification(double objectivePower)
    {
        if (!(objectivePower > 0) || !double.IsFinite(objectivePower) || objectivePower > 1000)
        {
            throw new InvalidParameterException($"magnification must be between 0 and 1000, got {Format(objectivePower)}");
        }

        return new Resolution(ResolutionUnit.Magnification, objectivePower);
    }

    /// <summary>A pyramid level.</summary>
    public static Resolution Level(int levelIndex)
    {
        if (levelIndex < 0)
        {
            throw new InvalidParameterException($"level must be 0 or more, got {levelIndex}");
        }

        return new Resolution(ResolutionUnit.Level, levelIndex);
    }

    /// <summary>
    /// Parses "0.5mpp" / "0.5um" / "0.5µm" (microns per pixel), "20x" (magnification) or "level:1" / "L1" (level).
    /// </summary>
    public static Resolution Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t.EndsWith('x') && TryNumber(t[..^1], out double mag))
        {
            return Magnification(mag);
        }

        foreach (string suffix in new[] { "mpp", "um/px", "µm/px", "um", "µm" })
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && TryNumber(t[..^suffix.Length], out double mpp))
            {
                return Mpp(mpp);
            }
        }

        string? level = t.StartsWith("level:", StringComparison.Ordinal) ? t[6..] : t.StartsWith('l') ? t[1..] : null;
        if (level != null && int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            return Level(index);
        }

        throw new InvalidParameterException($"cannot read resolution '{text}' (use e.g. 0.5mpp, 20x or level:1)");
    }

    /// <summary>"0.5mpp", "20x" or "level:1".</summary>
    public override string ToString() => Unit switch
    {
        ResolutionUnit.Mpp => Format(Value) + "mpp",
        ResolutionUnit.Magnification => Format(Value) + "x",
        _ => "level:" + Format(Value),
    };

    /// <summary>
    /// The level-0 downsample this resolution means on <paramref name="slide"/>. Microns per pixel need the slide's MPP;
    /// a magnification needs its objective power (or, failing that, its MPP with the convention 10 / magnification
    /// µm/px, so 20x = 0.5 µm/px); without them level 0 is used and <see cref="ResolvedResolution.Warning"/> says so.
    /// A level must exist (else <see cref="InvalidParameterException"/>).
    /// </summary>
    public ResolvedResolution Resolve(Slide slide)
    {
        ArgumentNullException.ThrowIfNull(slide);
        string name = System.IO.Path.GetFileName(slide.Path);
        double? slideMpp = slide.MppX;
        switch (Unit)
        {
            case ResolutionUnit.Level:
                int level = (int)Value;
                if (level >= slide.LevelCount)
                {
                    throw new InvalidParameterException($"level {level} does not exist in {name} (levels 0..{slide.LevelCount - 1})");
                }

                double ds = slide.Levels[level].Downsample;
                return new ResolvedResolution(this, ds, slideMpp * ds, null);

            case ResolutionUnit.Mpp:
                if (slideMpp is { } mpp)
                {
                    return WithUpsampleWarning(Value / mpp, Value, name);
                }

                return new ResolvedResolution(this, 1.0, null, new HistoWarning(WarningCode.NoMpp,
                    $"{name} has no MPP: patches are cut at level 0 (native resolution) instead of {this}"));

            default:
                if (slide.ObjectivePower is { } power)
                {
                    return WithUpsampleWarning(power / Value, slideMpp is { } m ? m * power / Value : null, name);
                }

                if (slideMpp is { } slideMicrons)
                {
                    double wanted = 10.0 / Value;
                    var resolved = WithUpsampleWarning(wanted / slideMicrons, wanted, name);
                    return resolved with
                    {
                        Warning = new HistoWarning(WarningCode.NoObjectivePower,
                            $"{name} has no objective power: {this} taken as {Format(wanted)} µm/px" + (resolved.Warning is { } w ? "; " + w.Message : "")),
                    };
                }

                return new ResolvedResolution(this, 1.0, null, new HistoWarning(WarningCode.NoScale,
                    $"{name} has neither objective power nor MPP: patches are cut at level 0 (native resolution) instead of {this}"));
        }
    }

    private ResolvedResolution WithUpsampleWarning(double downsample, double? mpp, string name) =>
        new(this, downsample, mpp, downsample < 0.999
            ? new HistoWarning(WarningCode.Enlarged, $"{this} is finer than level 0 of {name}: patches are enlarged {Format(1 / downsample)}x")
            : null);

    private static bool TryNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static string Format(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>A <see cref="Resolution"/> resolved on one slide.</summary>
/// <param name="Requested">What was asked for.</param>
/// <param name="Level0Downsample">Level-0 pixels per output pixel.</param>
/// <param name="Mpp">Microns per output pixel, when known.</param>
/// <param name="Warning">Set when a fallback was taken (no MPP, no objective power) or patches are enlarged.</param>
public sealed record ResolvedResolution(Resolution Requested, double Level0Downsample, double? Mpp, HistoWarning? Warning);
