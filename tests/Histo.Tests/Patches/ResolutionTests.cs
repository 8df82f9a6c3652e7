using Histo.Patches;
using Histo.Slides;

namespace Histo.Tests.Patches;

public class ResolutionTests
{
    [Theory]
    [InlineData("0.5mpp", ResolutionUnit.Mpp, 0.5)]
    [InlineData("0.25um", ResolutionUnit.Mpp, 0.25)]
    [InlineData("1µm/px", ResolutionUnit.Mpp, 1.0)]
    [InlineData("20x", ResolutionUnit.Magnification, 20)]
    [InlineData("2.5X", ResolutionUnit.Magnification, 2.5)]
    [InlineData("level:2", ResolutionUnit.Level, 2)]
    [InlineData("L0", ResolutionUnit.Level, 0)]
    public void Parses_a_value_with_its_unit(string text, ResolutionUnit unit, double value)
    {
        var r = Resolution.Parse(text);
        Assert.Equal((unit, value), (r.Unit, r.Value));
        Assert.Equal(r, Resolution.Parse(r.ToString()));
    }

    [Theory]
    [InlineData("0.5")]
    [InlineData("20")]
    [InlineData("x")]
    [InlineData("-1mpp")]
    [InlineData("level:-1")]
    public void A_value_without_a_valid_unit_is_refused(string text)
    {
        Assert.Throws<InvalidParameterException>(() => Resolution.Parse(text));
    }

    [Fact]
    public void Default_resolution_is_level_0()
    {
        Assert.Equal(Resolution.Native, default(Resolution));
    }

    [Fact]
    public void Mpp_and_magnification_resolve_through_the_slide_metadata()
    {
        using var cmu = Slide.Open(TestPaths.CmuSmall); // 0.499 µm/px, 20x
        var mpp = Resolution.Mpp(0.998).Resolve(cmu);
        Assert.Equal(2.0, mpp.Level0Downsample, 9);
        Assert.Equal(0.998, mpp.Mpp!.Value, 9);
        Assert.Null(mpp.Warning);
        var mag = Resolution.Magnification(5).Resolve(cmu);
        Assert.Equal(4.0, mag.Level0Downsample, 9);
        Assert.Equal(0.499 * 4, mag.Mpp!.Value, 9);
        var level = Resolution.Level(0).Resolve(cmu);
        Assert.Equal((1.0, 0.499), (level.Level0Downsample, level.Mpp!.Value));
    }

    [Fact]
    public void Missing_metadata_falls_back_with_a_warning()
    {
        using var tcga = Slide.Open(TestPaths.Tcga); // no MPP, no objective power
        var mpp = Resolution.Mpp(0.5).Resolve(tcga);
        Assert.Equal(1.0, mpp.Level0Downsample);
        Assert.Equal(WarningCode.NoMpp, mpp.Warning?.Code);
        Assert.Contains("has no MPP", mpp.Warning!.Message, StringComparison.Ordinal);
        var mag = Resolution.Magnification(20).Resolve(tcga);
        Assert.Equal(1.0, mag.Level0Downsample);
        Assert.Equal(WarningCode.NoScale, mag.Warning?.Code);
        Assert.Contains("neither objective power nor MPP", mag.Warning!.Message, StringComparison.Ordinal);

        using var a01 = Slide.Open(TestPaths.A01Window); // MPP from TIFF tags, no objective power
        var a01Mag = Resolution.Magnification(20).Resolve(a01);
        Assert.Equal(0.5 / a01.MppX!.Value, a01Mag.Level0Downsample, 9);
        Assert.Equal(WarningCode.NoObjectivePower, a01Mag.Warning?.Code);
        Assert.Contains("no objective power", a01Mag.Warning!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_finer_target_than_level_0_warns_and_a_missing_level_is_an_error()
    {
        using var cmu = Slide.Open(TestPaths.CmuSmall);
        var fine = Resolution.Mpp(0.25).Resolve(cmu);
        Assert.True(fine.Level0Downsample < 1);
        Assert.Equal(WarningCode.Enlarged, fine.Warning?.Code);
        Assert.Contains("enlarged", fine.Warning!.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidParameterException>(() => Resolution.Level(3).Resolve(cmu));
    }
}
