using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace Histo.Tests.Cli;

/// <summary>What <c>histo COMMAND --help</c> says about defaults is what the settings classes start with.</summary>
public sealed partial class HelpTruthTests
{
    // "(default 5)", "(0..1, default 0.05)", "(default demo-out)": the value after "default ".
    [GeneratedRegex(@"(?<![\w-])default (?<v>[^\s(),;:]+)", RegexOptions.CultureInvariant)]
    private static partial Regex ValueAfter();

    // "fp32 (default)", "pad (default, white)", "lab (default: ...)", "loss (class-weighted loss, default)": the word before.
    [GeneratedRegex(@"(?<v>[\w.\-]+) \((?:[^()]*?, )?default(?=[),;:])", RegexOptions.CultureInvariant)]
    private static partial Regex ValueBefore();

    public static TheoryData<string> SettingsTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in SettingsClasses())
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SettingsTypes))]
    public void Every_default_a_help_text_states_is_the_options_initial_value(string typeName)
    {
        var type = SettingsClasses().Single(t => t.FullName == typeName);
        object settings = Activator.CreateInstance(type)!;
        var checkedOptions = new List<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<CommandOptionAttribute>() is not { } option || property.GetCustomAttribute<DescriptionAttribute>() is not { } description)
            {
                continue;
            }

            object? value = property.GetValue(settings);
            if (value is null or bool)
            {
                continue; // a computed default (the patch size, all cores) or a switch
            }

            string name = option.LongNames.FirstOrDefault() ?? option.ShortNames.First();
            var stated = ValueAfter().Matches(description.Description).Select(m => m.Groups["v"].Value)
                .Concat(ValueBefore().Matches(description.Description).Select(m => m.Groups["v"].Value))
                .Where(v => v != "is")
                .ToList();
            foreach (string v in stated)
            {
                if (value is string s)
                {
                    Assert.True(string.Equals(s, v, StringComparison.OrdinalIgnoreCase),
                        $"{type.DeclaringType?.Name ?? type.Name} --{name}: the help says the default is '{v}', the code starts with '{s}'");
                }
                else
                {
                    double actual = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                    Assert.True(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double said) && said == actual,
                        $"{type.DeclaringType?.Name ?? type.Name} --{name}: the help says the default is '{v}', the code starts with {actual.ToString(CultureInfo.InvariantCulture)}");
                }

                checkedOptions.Add(name);
            }
        }

        // Not vacuous: the commands with fixed defaults state at least one of them.
        if (typeName.Contains("TrainCommand", StringComparison.Ordinal))
        {
            Assert.Contains("epochs", checkedOptions);
            Assert.Contains("optimizer", checkedOptions);
        }
    }

    [Fact]
    public void Train_help_states_the_real_epoch_count_and_lists_only_options_train_reads()
    {
        var help = CliRunner.Run("train", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains($"Epochs per fold (default {Histo.Learning.Training.TrainingOptions.DefaultEpochs})", help.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("--json", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("--image-mpp", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("--crop-stride-pixels", help.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void One_concept_has_one_option_name_across_commands()
    {
        // A step between patches or crops is --...stride-pixels everywhere, and --mpp means one thing: the resolution
        // patches are cut at. Scales of input images and of masks have their own names.
        var names = SettingsClasses().SelectMany(t => t.GetProperties().Select(p => p.GetCustomAttribute<CommandOptionAttribute>()))
            .Where(o => o != null).SelectMany(o => o!.LongNames).Distinct().ToList();
        Assert.DoesNotContain("stride", names);
        Assert.DoesNotContain("crop", names);
        Assert.Contains("stride-pixels", names);
        var mppCommands = SettingsClasses().Where(t => t.GetProperties().Any(p => p.GetCustomAttribute<CommandOptionAttribute>()?.LongNames.Contains("mpp") == true))
            .Select(t => t.DeclaringType?.Name).ToList();
        Assert.Equal(["PatchesCommand"], mppCommands);
    }

    [Fact]
    public void Dash_v_is_verbose_not_version()
    {
        var version = CliRunner.Run("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.StdOut.Trim());
        CliRunner.AssertOneLineError(CliRunner.Run("-v"), "--verbose");
        var verbose = CliRunner.Run("info", TestPaths.BrokenSvs, "-v");
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains("   at ", verbose.StdErr, StringComparison.Ordinal); // the stack trace --verbose prints
    }

    private static IEnumerable<Type> SettingsClasses() =>
        typeof(Histo.Cli.HistoCli).Assembly.GetTypes()
            .Where(t => typeof(CommandSettings).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) != null
                && t.DeclaringType?.Name.EndsWith("Command", StringComparison.Ordinal) == true)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
}
