namespace Histo;

/// <summary>
/// An input of a library call that a user chooses and that a failure's (or a warning's) remedy says to change. The
/// library words that remedy in its own terms; a caller with its own names for these inputs (the command line's
/// options) words it with them from <see cref="HistoException.Problem"/>, <see cref="HistoException.Parameter"/> and
/// the exception's typed properties.
/// </summary>
public enum HistoParameter
{
    /// <summary>The µm/px given for a dataset's images (<see cref="Datasets.DatasetLoadOptions.MppOverride"/>).</summary>
    DatasetMpp,

    /// <summary>The number of cross-validation folds (<see cref="Datasets.GroupKFold.Split"/>).</summary>
    FoldCount,

    /// <summary>The geometry of a prediction map (<see cref="Maps.MapGeometry.FileName"/>), given apart from the map.</summary>
    MapGeometry,

    /// <summary>The map from annotation labels to classes (<see cref="Annotations.LabelMap"/>).</summary>
    LabelMap,

    /// <summary>The shard of a cohort one job runs (<c>Shard</c>, <c>i/n</c>).</summary>
    Shard,

    /// <summary>The TCP port the viewer listens on (<c>ViewerOptions.Port</c>).</summary>
    Port,
}
