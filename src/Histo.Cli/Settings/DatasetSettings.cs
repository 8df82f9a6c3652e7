using System.ComponentModel;
using Histo.Datasets;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Settings;

/// <summary>Options shared by the commands that read datasets (<c>dataset</c>, <c>leakcheck</c>, <c>train</c>).</summary>
public class DatasetSettings : CommonSettings
{
    /// <summary>The template of <c>--size-policy</c>, here and in <see cref="DatasetModelSettings"/>.</summary>
    internal const string SizePolicyTemplate = "--size-policy <POLICY>";

    /// <summary>The help text of <c>--size-policy</c>.</summary>
    internal const string SizePolicyHelp = "Images smaller than their dataset's usual size (border cuts): pad (default, white), resize, or skip.";

    [CommandArgument(0, "<PATHS>")]
    [Description("Dataset folders (class folders, IDC or BreakHis names) or CSV manifests (path,label[[,group]]); several are combined.")]
    public string[] Paths { get; set; } = [];

    [CommandOption(SizePolicyTemplate)]
    [Description(SizePolicyHelp)]
    public string SizePolicy { get; set; } = "pad";

    [CommandOption("--breakhis-labels <LABELS>")]
    [Description("BreakHis labels: binary (benign/malignant, default) or subtype (8 tumour types).")]
    public string BreakHisLabels { get; set; } = "binary";

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Paths.Length == 0)
        {
            return ValidationResult.Error("give at least one dataset path");
        }

        if (Choices.SizePolicy.Check(SizePolicy) is { Successful: false } policy)
        {
            return policy;
        }

        if (Choices.BreakHisLabels.Check(BreakHisLabels) is { Successful: false } labels)
        {
            return labels;
        }

        return ValidationResult.Success();
    }

    /// <summary>The loader options these settings ask for; <paramref name="mpp"/> overrides the images' µm/px.</summary>
    public DatasetLoadOptions LoadOptions(bool verify = false, double? mpp = null) => new()
    {
        MppOverride = mpp,
        SizePolicy = Choices.SizePolicy.Parse(SizePolicy),
        BreakHisLabeling = Choices.BreakHisLabels.Parse(BreakHisLabels),
        VerifyImages = verify,
    };
}

/// <summary>Dataset options plus <c>--json</c>, for the commands that print a report (<c>dataset</c>, <c>leakcheck</c>).</summary>
public class JsonDatasetSettings : DatasetSettings
{
    [CommandOption("--json")]
    [Description("Print one JSON object.")]
    public bool Json { get; set; }
}
