using System.Globalization;
using System.Text;
using Histo.Learning.Evaluation;
using Histo.Learning.Reports;
using Histo.Models;
using Histo.Tests.Cli;

namespace Histo.Tests.Evaluation;

public sealed class ReportAndBadInputTests
{
    private static readonly string[] BachClasses = ["Normal", "Benign", "InSitu", "Invasive"];

    /// <summary>A model directory as the trainer leaves it: card, history.csv (2 folds + final) and cv_predictions.csv.</summary>
    private static string TrainedModelRecords()
    {
        string model = TestPaths.NewTempDirectory();
        new ModelCard { Classes = [.. BachClasses], BachCodes = [0, 1, 2, 3], PatchSizePixels = 299, InputSizePixels = 224, Mpp = 0.42 }.Save(model);
        var history = new StringBuilder(TrainingRecords.HistoryHeader + "\n");
        for (int fold = 1; fold <= 2; fold++)
        {
            for (int epoch = 1; epoch <= 4; epoch++)
            {
                history.Append(CultureInfo.InvariantCulture, $"{fold},{epoch},{1.4 - 0.2 * epoch + 0.05 * fold},{1.5 - 0.15 * epoch},{0.3 + 0.1 * epoch + 0.02 * fold},{0.25 + 0.1 * epoch},0.001,25.5,40\n");
            }
        }

        history.Append("final,1,1.1,,,,0.001,26,41\nfinal,2,0.8,,,,0.0005,26,41\n");
        File.WriteAllText(Path.Combine(model, TrainingRecords.HistoryFileName), history.ToString());
        var predictions = new StringBuilder("path,group,fold,truth,p_Normal,p_Benign,p_InSitu,p_Invasive\n");
        for (int i = 0; i < 16; i++)
        {
            int truth = i % 4;
            int predicted = i % 5 == 0 ? (truth + 1) % 4 : truth; // a few mistakes
            float[] p = [0.1f, 0.1f, 0.1f, 0.1f];
            p[predicted] = 0.7f;
            predictions.Append(CultureInfo.InvariantCulture, $"Photos/{BachClasses[truth]}/img{i}.tif,image:img{i},{1 + i % 2},{BachClasses[truth]},{p[0]},{p[1]},{p[2]},{p[3]}\n");
        }

        File.WriteAllText(Path.Combine(model, TrainingRecords.PredictionsFileName), predictions.ToString());
        return model;
    }

    [Fact]
    public void ReportCommandWritesPngsAndAnHtmlPageReferencingThem()
    {
        string model = TrainedModelRecords();
        var result = CliRunner.Run("report", model);
        Assert.True(result.ExitCode == 0, result.StdErr);
        string report = Path.Combine(model, "report");
        EvaluationCliTests.AssertPng(Path.Combine(report, "confusion.png"));
        EvaluationCliTests.AssertPng(Path.Combine(report, "curves.png"));
        string html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(report, "index.html")));
        Assert.Contains("src=\"confusion.png\"", html, StringComparison.Ordinal);
        Assert.Contains("src=\"curves.png\"", html, StringComparison.Ordinal);
        Assert.Contains("mean ± sd", html, StringComparison.Ordinal);
        Assert.Contains("InSitu", html, StringComparison.Ordinal);
        // 16 images, 4 mistakes (i = 0, 5, 10, 15): accuracy 0.75.
        Assert.Contains("<td>accuracy</td><td>0.7500</td>", html, StringComparison.Ordinal);
        Assert.Contains("binary accuracy", html, StringComparison.Ordinal);
        Assert.Contains("Final model: trained on all data for 2 epochs", html, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(Path.GetFullPath(report), "index.html"), result.StdOut.Trim());
    }

    [Fact]
    public void TrainingReportLibraryCallWritesIntoTheGivenFolderAndLeavesNothingOnBadRecords()
    {
        string model = TrainedModelRecords();
        string output = Path.Combine(TestPaths.NewTempDirectory(), "r");
        TrainingReport.Write(model, output);
        Assert.Equal(["confusion.png", "curves.png", "index.html"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        File.WriteAllText(Path.Combine(model, TrainingRecords.HistoryFileName), "fold,epoch,loss\n1,1,0.5\n");
        string other = Path.Combine(TestPaths.NewTempDirectory(), "r2");
        var e = Assert.Throws<ReportInputException>(() => TrainingReport.Write(model, other));
        Assert.Contains("header must be", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(other));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(other)!));

        var cli = CliRunner.Run("report", model);
        CliRunner.AssertOneLineError(cli, "history.csv");
        Assert.False(Directory.Exists(Path.Combine(model, "report")));
    }

    [Fact]
    public void MissingModelDirectoryIsAOneLineError()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.csv");
        var result = CliRunner.Run("predict", Path.Combine(TestPaths.NewTempDirectory(), "no-model"), TestPaths.Shared("microscopy", "bach"), "--csv", "-o", output);
        CliRunner.AssertOneLineError(result, "model directory not found");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ModelFromAnotherFormatVersionIsRejected()
    {
        string model = TestPaths.NewTempDirectory();
        foreach (string file in Directory.GetFiles(EvaluationModel.ModelDirectory))
        {
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        }

        string card = Path.Combine(model, ModelCard.FileName);
        File.WriteAllText(card, File.ReadAllText(card).Replace("\"format_version\": 1", "\"format_version\": 7", StringComparison.Ordinal));
        string features = Path.Combine(TestPaths.NewTempDirectory(), "f.npy");
        var result = CliRunner.Run("embed", model, EvaluationModel.TestDataset, "-o", features);
        CliRunner.AssertOneLineError(result, "model format 7 is not supported");
        Assert.False(File.Exists(features));
    }

    [Fact]
    public void DatasetClassesOutsideTheModelsAreRejectedListingBoth()
    {
        string report = Path.Combine(TestPaths.NewTempDirectory(), "report");
        var result = CliRunner.Run("evaluate", EvaluationModel.ModelDirectory, TestPaths.Shared("microscopy", "bach"), "--json", "--report", report);
        CliRunner.AssertOneLineError(result, "model classes [0, 1]");
        Assert.Contains("Invasive", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(report));
        Assert.Equal("", result.StdOut.Trim());
    }

    [Fact]
    public void AnUnreadableImageFailsWithoutLeavingOutput()
    {
        string folder = TestPaths.NewTempDirectory();
        File.CreateSymbolicLink(Path.Combine(folder, "a.png"), EvaluationModel.TestFiles()[0]);
        File.WriteAllBytes(Path.Combine(folder, "b.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5]);
        string dir = TestPaths.NewTempDirectory();
        string csv = Path.Combine(dir, "p.csv");
        var predict = CliRunner.Run("predict", EvaluationModel.ModelDirectory, folder, "--csv", "-o", csv);
        CliRunner.AssertOneLineError(predict, "b.png");
        string npy = Path.Combine(dir, "f.npy");
        var embed = CliRunner.Run("embed", EvaluationModel.ModelDirectory, folder, "-o", npy);
        CliRunner.AssertOneLineError(embed, "b.png");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void BadOptionsAreUsageErrors()
    {
        var batch = CliRunner.Run("evaluate", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "--batch", "0");
        CliRunner.AssertOneLineError(batch, "--batch");
        Assert.Equal(2, batch.ExitCode);
        var output = CliRunner.Run("embed", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "-o", "features.txt");
        CliRunner.AssertOneLineError(output, ".csv or .npy");
        Assert.Equal(2, output.ExitCode);
        var both = CliRunner.Run("predict", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "--csv", "--json");
        Assert.Equal(2, both.ExitCode);
    }

    /// <summary>Every model-running command shares one settings base: the same bounds on --threads and --batch.</summary>
    [Theory]
    [InlineData("evaluate", "--threads", "0")]
    [InlineData("predict", "--threads", "0")]
    [InlineData("embed", "--threads", "300")]
    [InlineData("slide", "--threads", "0")]
    [InlineData("tune", "--threads", "0")]
    [InlineData("mine", "--batch", "5000")]
    [InlineData("predict", "--batch", "-1")]
    public void ModelCommandsShareTheirOptionBounds(string verb, string option, string value)
    {
        string dir = TestPaths.NewTempDirectory();
        string[] operands = verb switch
        {
            "evaluate" => [EvaluationModel.TestDataset],
            "embed" => [EvaluationModel.TestDataset, "-o", Path.Combine(dir, "features.csv")],
            "predict" => [dir],
            "slide" => [TestPaths.A01Window, "-o", Path.Combine(dir, "out")],
            "mine" => [TestPaths.A01Window, TestPaths.A01Labels, "-o", Path.Combine(dir, "out")],
            _ => [TestPaths.A01Window, TestPaths.A01Labels],
        };
        var result = CliRunner.Run([verb, EvaluationModel.ModelDirectory, .. operands, option, value]);
        CliRunner.AssertOneLineError(result, option);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("embed")]
    [InlineData("report")]
    public void HelpRenders(string verb)
    {
        var result = CliRunner.Run(verb, "--help");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("<MODEL>", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("OPTIONS:", result.StdOut, StringComparison.Ordinal);
        Assert.Equal("", result.StdErr);
    }
}
