using Histo.Maps;

namespace Histo.Tests.Inference;

public class ClassMapRuleTests
{
    private static readonly int[] Bach = [0, 1, 2, 3];

    [Fact]
    public void Intensity_is_probability_weighted_code_over_three()
    {
        Assert.Equal(1.0 / 3, ClassMapRule.Intensity(new float[] { 0, 1, 0, 0 }, Bach), 6);
        Assert.Equal((0.5 * 2 + 0.5 * 3) / 3.0, ClassMapRule.Intensity(new float[] { 0, 0, 0.5f, 0.5f }, Bach), 6);
        Assert.Equal(0.8, ClassMapRule.Intensity(new float[] { 0.2f, 0.8f }, new[] { 0, 3 }), 6);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.3333, 0)] // a confident Benign patch falls below the seed's 0.35 (DOMAIN.md's caveat)
    [InlineData(0.35, 1)]
    [InlineData(0.6999, 1)]
    [InlineData(0.70, 2)]
    [InlineData(0.7499, 2)]
    [InlineData(0.75, 3)]
    [InlineData(1.0, 3)]
    public void Seed_thresholds_bin_the_intensity(double value, int expected)
    {
        Assert.Equal(expected, ClassMapRule.CodeForIntensity(value, ClassMapRule.SeedThresholds));
    }

    [Fact]
    public void Argmax_and_threshold_rules_classify()
    {
        var p = new float[] { 0.1f, 0.2f, 0.6f, 0.1f };
        Assert.Equal(2, ClassMapRule.Argmax.Classify(p, Bach));
        // intensity (0.2 + 1.2 + 0.3) / 3 = 0.5667 -> code 1 with the seed thresholds
        Assert.Equal(1, ClassMapRule.WithThresholds(ClassMapRule.SeedThresholds).Classify(p, Bach));
        Assert.Equal(2, ClassMapRule.WithThresholds([0, 0.25, 0.5, 0.75]).Classify(p, Bach));
    }

    [Fact]
    public void Two_class_idc_model_maps_codes_back_to_classes()
    {
        var rule = ClassMapRule.WithThresholds(ClassMapRule.SeedThresholds);
        int[] codes = [0, 3];
        Assert.Equal(1, rule.Classify(new float[] { 0.1f, 0.9f }, codes));
        Assert.Equal(0, rule.Classify(new float[] { 0.5f, 0.5f }, codes)); // 0.5 -> code 1, no class has it -> nearest below (0)
        Assert.Equal(0, rule.Classify(new float[] { 0.9f, 0.1f }, codes));
    }

    [Theory]
    [InlineData(new[] { 0.1, 0.35, 0.7, 0.75 })]
    [InlineData(new[] { 0.0, 0.5, 0.4, 0.75 })]
    [InlineData(new[] { 0.0, 1.5 })]
    [InlineData(new[] { 0.0 })]
    public void Bad_thresholds_are_rejected(double[] thresholds)
    {
        Assert.Throws<InvalidParameterException>(() => ClassMapRule.WithThresholds(thresholds));
    }
}
