using Histo.Bach;
using Histo.Scoring;

namespace Histo.Tests.Scoring;

public class BachScoreTests
{
    [Fact]
    public void Small_arrays_match_hand_computed_values()
    {
        byte[] prediction = [0, 1, 2, 3, 3, 0];
        byte[] truth = [0, 0, 2, 1, 3, 3];
        var s = BachScore.Compute(prediction, truth);

        // Pixel 0 (both Normal) counts nowhere. |p - g|: 1, 0, 2, 0, 3 = 6. max(g, 3 - g): 3, 2, 2, 3, 3 = 13.
        Assert.Equal(6, s.ErrorSum);
        Assert.Equal(13, s.WeightSum);
        Assert.Equal(1 - (6.0 / 13), s.Score!.Value, 12);

        // Dice: Normal P{0,5} G{0,1} -> 2/4; Benign P{1} G{3} -> 0; InSitu P{2} G{2} -> 1; Invasive P{3,4} G{4,5} -> 2/4.
        Assert.Equal(0.5, s.Dice(0));
        Assert.Equal(0.0, s.Dice(1));
        Assert.Equal(1.0, s.Dice(2));
        Assert.Equal(0.5, s.Dice(3));
        Assert.Equal(1, s.Confusion(truth: 1, prediction: 3));
        Assert.Equal(1, s.Confusion(truth: 3, prediction: 0));
        Assert.Equal(2, s.PredictionCount(3));
        Assert.Equal(2, s.TruthCount(0));
        Assert.Equal(6, s.PixelCount);
        Assert.Equal(3.0 / 6, s.Accuracy, 12);
    }

    [Theory]
    [InlineData(0, 0.143)]
    [InlineData(1, 0.600)]
    [InlineData(2, 0.600)]
    [InlineData(3, 0.400)]
    public void Constant_predictions_on_balanced_truth_give_the_published_sanity_values(byte constant, double expected)
    {
        // DOMAIN.md: for equally likely classes, constant Normal 0.143, Benign 0.60, InSitu 0.60, Invasive 0.40.
        byte[] truth = Enumerable.Range(0, 4000).Select(i => (byte)(i % 4)).ToArray();
        var prediction = Enumerable.Repeat(constant, truth.Length).ToArray();
        Assert.Equal(expected, BachScore.Compute(prediction, truth).Score!.Value, 3);
    }

    [Fact]
    public void Perfect_prediction_scores_one()
    {
        byte[] truth = Enumerable.Range(0, 1000).Select(i => (byte)((i * 7 / 13) % 4)).ToArray();
        var s = BachScore.Compute(truth, truth);
        Assert.Equal(1.0, s.Score);
        Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(1.0, s.Dice(c)));
    }

    [Fact]
    public void Both_maps_all_normal_is_undefined_not_one()
    {
        var zeros = new byte[100];
        var s = BachScore.Compute(zeros, zeros);
        Assert.Null(s.Score);
        Assert.Equal(0, s.WeightSum);
        Assert.Equal(1.0, s.Dice(0));
        Assert.Null(s.Dice(3));

        // One non-Normal pixel anywhere makes it defined again.
        var one = new byte[100];
        one[5] = 1;
        Assert.Equal(1 - (1.0 / 2), BachScore.Compute(zeros, one).Score!.Value, 12); // |0 - 1| / max(1, 3 - 1)
        Assert.Equal(1 - (1.0 / 3), BachScore.Compute(one, zeros).Score!.Value, 12); // |1 - 0| / max(0, 3 - 0)
    }

    [Fact]
    public void Combine_pools_numerators_and_denominators()
    {
        var a = BachScore.Compute([1, 0], [0, 0]);       // 1 / 3
        var b = BachScore.Compute([3, 3], [3, 1]);       // 2 / 5
        var pooled = BachScore.Combine([a, b, BachScore.Compute([0], [0])]);
        Assert.Equal(3, pooled.ErrorSum);
        Assert.Equal(8, pooled.WeightSum);
        Assert.Equal(1 - (3.0 / 8), pooled.Score!.Value, 12);
        Assert.Equal(5, pooled.PixelCount);
    }

    [Fact]
    public void Bad_inputs_throw()
    {
        Assert.Contains("differ in size", Assert.Throws<ScoringException>(() => BachScore.Compute([0, 1], [0])).Message, StringComparison.Ordinal);
        var e = Assert.Throws<ScoringException>(() => BachScore.Compute(
            new Histo.Maps.RasterMask(3, 2, 1, 1, [0, 0, 0, 0, 7, 0]), new Histo.Maps.RasterMask(3, 2, 1, 1)));
        Assert.Contains("prediction pixel (1, 1) holds 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("truth pixel 0 holds 4", Assert.Throws<ScoringException>(() => BachScore.Compute([0], [4])).Message, StringComparison.Ordinal);
    }
}
