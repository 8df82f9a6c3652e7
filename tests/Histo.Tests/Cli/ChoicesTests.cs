using Histo.Cli;
using Histo.Cli.Settings;
using Histo.Color;
using Histo.Datasets;
using Histo.Learning.Training;
using Histo.Patches;
using Histo.Tissue;

namespace Histo.Tests.Cli;

/// <summary>
/// The one table of word-valued options: every word means the value each command used to pick by hand, and a wrong
/// word is refused with the text each command used to write itself.
/// </summary>
public sealed class ChoicesTests
{
    [Fact]
    public void Every_wrong_word_is_refused_with_the_commands_former_text()
    {
        (string Actual, string Expected)[] cases =
        [
            (Choices.SizePolicy.Check("stretch").Message!, "--size-policy must be pad, resize or skip, got 'stretch'"),
            (Choices.BreakHisLabels.Check("x").Message!, "--breakhis-labels must be binary or subtype, got 'x'"),
            (Choices.TissueMethod.Check("x").Message!, "--method must be lab or otsu, got 'x'"),
            (Choices.LabelRule.Check("median").Message!, "--label-rule must be mean or majority, got 'median'"),
            (Choices.NormalizeMethod.Check("vahadane").Message!, "--method must be macenko or reinhard, got 'vahadane'"),
            (Choices.StainMethod.Check("vahadane").Message!, "--stain-method must be macenko or reinhard, got 'vahadane'"),
            (Choices.Optimizer.Check("adam").Message!, "--optimizer must be sgd or adamw, got 'adam'"),
            (Choices.Precision.Check("fp16").Message!, "--precision must be auto, fp32 or bf16, got 'fp16'"),
            (Choices.Schedule.Check("linear").Message!, "--schedule must be cosine or step, got 'linear'"),
            (Choices.Balance.Check("x").Message!, "--balance must be loss, sampling or none, got 'x'"),
            (Choices.Final.Check("last").Message!, "--final must be all or best-fold, got 'last'"),
        ];
        Assert.All(cases, c => Assert.Equal(c.Expected, c.Actual));
        var usage = Assert.Throws<UsageException>(() => Choices.Optimizer.Parse("adam"));
        Assert.Equal("--optimizer must be sgd or adamw, got 'adam'", usage.Message);
    }

    [Fact]
    public void Words_mean_what_the_commands_parsed_them_to()
    {
        Assert.Equal(SizePolicy.Resize, Choices.SizePolicy.Parse("RESIZE")); // --size-policy was read in any case
        Assert.True(Choices.SizePolicy.Check("Skip").Successful);
        Assert.False(Choices.Optimizer.Check("SGD").Successful); // the others were compared exactly
        Assert.Equal(BreakHisLabeling.Subtype, Choices.BreakHisLabels.Parse("subtype"));
        Assert.Equal(BreakHisLabeling.BenignMalignant, Choices.BreakHisLabels.Parse("binary"));
        Assert.Equal(TissueMethod.Otsu, Choices.TissueMethod.Parse("otsu"));
        Assert.Equal(LabelRule.RoundedMean, Choices.LabelRule.Parse("mean"));
        Assert.Equal(LabelRule.Majority, Choices.LabelRule.Parse("majority"));
        Assert.Equal(StainMethod.Reinhard, Choices.NormalizeMethod.Parse("reinhard"));
        Assert.Equal(StainMethod.Macenko, Choices.StainMethod.Parse("macenko"));
        Assert.Equal(OptimizerKind.SgdNesterov, Choices.Optimizer.Parse("sgd"));
        Assert.Equal(TrainingPrecision.BFloat16Mixed, Choices.Precision.Parse("bf16"));
        Assert.Equal(TrainingPrecision.Float32, Choices.Precision.Parse("fp32"));
        Assert.Equal(LearningRateSchedule.Step, Choices.Schedule.Parse("step"));
        Assert.Equal(ClassBalancing.LossWeights, Choices.Balance.Parse("loss"));
        Assert.Equal(ClassBalancing.None, Choices.Balance.Parse("none"));
        Assert.Equal(FinalModelChoice.BestFold, Choices.Final.Parse("best-fold"));
        Assert.Equal(FinalModelChoice.AllData, Choices.Final.Parse("all"));
    }

    [Fact]
    public void Shared_numeric_options_keep_their_texts()
    {
        Assert.Equal("--threads must be between 1 and 256, got 0", ThreadsOption.Check(0).Message);
        Assert.True(ThreadsOption.Check(null).Successful);
        Assert.Equal("--min-tissue must be between 0 and 1, got 1.5", MinTissueOption.Check(1.5).Message);
        Assert.Equal("--min-tissue must be between 0 and 1, got NaN", MinTissueOption.Check(double.NaN).Message);
        Assert.True(MinTissueOption.Check(0).Successful && MinTissueOption.Check(1).Successful);
    }
}
