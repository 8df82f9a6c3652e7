namespace Histo.Datasets;

/// <summary>A dataset that cannot be used as given: missing path, nothing labelled, malformed manifest...</summary>
public class DatasetException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public DatasetException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public DatasetException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception for a failure that another value of <paramref name="parameter"/> gets past.</summary>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="parameter">The input the remedy changes.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    protected DatasetException(string problem, HistoParameter parameter, string message) : base(problem, parameter, message) { }
}

/// <summary>No labelled image was found (an empty folder, or only non-image or unreadable files).</summary>
public sealed class EmptyDatasetException : DatasetException
{
    /// <summary>Creates the exception.</summary>
    public EmptyDatasetException(string message) : base(message) { }
}

/// <summary>Every image carries the same label: there is nothing to tell apart.</summary>
public sealed class SingleClassDatasetException : DatasetException
{
    /// <summary>The only class found.</summary>
    public string ClassName { get; }

    /// <summary>Creates the exception.</summary>
    public SingleClassDatasetException(string className, string message) : base(message) => ClassName = className;
}

/// <summary>A CSV manifest that cannot be parsed; <see cref="LineNumber"/> says where (1-based).</summary>
public sealed class ManifestFormatException : DatasetException
{
    /// <summary>The manifest file.</summary>
    public string ManifestPath { get; }

    /// <summary>The 1-based line where the problem is.</summary>
    public int LineNumber { get; }

    /// <summary>Creates the exception; the message is prefixed with the file and line.</summary>
    public ManifestFormatException(string manifestPath, int lineNumber, string problem)
        : base($"{manifestPath}, line {lineNumber}: {problem}")
    {
        ManifestPath = manifestPath;
        LineNumber = lineNumber;
    }
}

/// <summary>
/// A split asked for more folds than there are groups (patients or source images), or items when ungrouped. For a
/// grouped split <see cref="HistoException.Parameter"/> is <see cref="HistoParameter.FoldCount"/>: at most
/// <see cref="MaxFolds"/> folds, or more data.
/// </summary>
public sealed class NotEnoughGroupsException : DatasetException
{
    /// <summary>Number of groups in the dataset.</summary>
    public int GroupCount { get; }

    /// <summary>Folds asked for.</summary>
    public int FoldCount { get; }

    /// <summary>The fold count to use instead: the number of groups, and at least 2 (a split's fewest folds).</summary>
    public int MaxFolds => Math.Max(2, GroupCount);

    /// <summary>What the other remedy, more data, must come from, as the message words it ("groups", or "patients or images").</summary>
    public string MoreDataFrom => MoreDataFromGroups(GroupCount);

    /// <summary>Creates the exception.</summary>
    public NotEnoughGroupsException(int groupCount, int foldCount, string message) : base(message)
    {
        GroupCount = groupCount;
        FoldCount = foldCount;
    }

    /// <summary>Creates the exception for a split that fewer folds (<see cref="MaxFolds"/>) or more data gets past.</summary>
    /// <param name="groupCount">Number of groups in the dataset.</param>
    /// <param name="foldCount">Folds asked for.</param>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    public NotEnoughGroupsException(int groupCount, int foldCount, string problem, string message)
        : base(problem, HistoParameter.FoldCount, message)
    {
        GroupCount = groupCount;
        FoldCount = foldCount;
    }

    /// <summary>What more data must come from when the dataset has <paramref name="groupCount"/> groups.</summary>
    internal static string MoreDataFromGroups(int groupCount) => groupCount < 2 ? "patients or images" : "groups";
}

/// <summary>A saved split file that is malformed or does not match the dataset it is applied to.</summary>
public sealed class SplitFormatException : DatasetException
{
    /// <summary>Creates the exception.</summary>
    public SplitFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public SplitFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A cross-validation split that leaks (a patient or image on both sides, or duplicate images across folds), raised
/// by <see cref="LeakChecker.EnsureClean"/> so that training refuses it unless the user explicitly allows leaks.
/// </summary>
public sealed class LeakFoundException : DatasetException
{
    /// <summary>The report that found the leak.</summary>
    public LeakReport Report { get; }

    /// <summary>Creates the exception.</summary>
    public LeakFoundException(LeakReport report, string message) : base(message) => Report = report;
}

/// <summary>
/// The images record scales (µm/px) more than 10 % apart, so no single scale fits them all: training would mix
/// magnifications. Raised by <see cref="DatasetLoader"/> unless a scale is given or mixed scales are allowed; the remedy
/// is images of one scale or a given scale (<see cref="HistoParameter.DatasetMpp"/>).
/// </summary>
public sealed class MixedScaleDatasetException : DatasetException
{
    /// <summary>The smallest recorded µm/px.</summary>
    public double MinMpp { get; }

    /// <summary>The largest recorded µm/px.</summary>
    public double MaxMpp { get; }

    /// <summary>Creates the exception.</summary>
    /// <param name="minMpp">The smallest recorded µm/px.</param>
    /// <param name="maxMpp">The largest recorded µm/px.</param>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    public MixedScaleDatasetException(double minMpp, double maxMpp, string problem, string message)
        : base(problem, HistoParameter.DatasetMpp, message)
    {
        MinMpp = minMpp;
        MaxMpp = maxMpp;
    }
}
