namespace Histo.Learning.Evaluation;

/// <summary>A dataset whose classes are not among the model's classes (matched by name, ignoring case).</summary>
public sealed class ClassMismatchException : HistoException
{
    /// <summary>Creates the exception; the message lists both class sets.</summary>
    public ClassMismatchException(IReadOnlyList<string> datasetClasses, IReadOnlyList<string> modelClasses, IReadOnlyList<string> unknown)
        : base($"the dataset has classes the model does not know ({string.Join(", ", unknown)}): dataset classes [{string.Join(", ", datasetClasses)}], model classes [{string.Join(", ", modelClasses)}]")
    {
        DatasetClasses = datasetClasses;
        ModelClasses = modelClasses;
    }

    /// <summary>The dataset's class names.</summary>
    public IReadOnlyList<string> DatasetClasses { get; }

    /// <summary>The model's class names.</summary>
    public IReadOnlyList<string> ModelClasses { get; }
}

/// <summary>A training record (history.csv, cv_predictions.csv) that is missing or malformed.</summary>
public sealed class ReportInputException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ReportInputException(string message) : base(message) { }
}
