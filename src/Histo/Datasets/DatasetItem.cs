namespace Histo.Datasets;

/// <summary>
/// One labelled image of a <see cref="Dataset"/>.
/// </summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="LabelIndex">Index into <see cref="Dataset.Classes"/>.</param>
/// <param name="Group">
/// The unit that must never straddle folds: the patient when the naming scheme or manifest gives one, else the
/// source image the patch was cut from. Prefixed with where it came from (<c>idc:</c>, <c>breakhis:</c>,
/// <c>csv:</c>, <c>image:</c>) so that ids from different schemes cannot collide.
/// </param>
/// <param name="SourceImageId">The image this patch was cut from (for a whole image: the image itself).</param>
/// <param name="WidthPixels">Width read from the file header.</param>
/// <param name="HeightPixels">Height read from the file header.</param>
/// <param name="GroupKind">What <paramref name="Group"/> stands for.</param>
/// <param name="SourceIndex">Index into <see cref="Dataset.Sources"/>: which of the given paths it came from.</param>
/// <param name="Mpp">
/// Microns per pixel recorded in the file (TIFF resolution tags, read from the header), or null when it records none.
/// The dataset's scale is <see cref="Dataset.Mpp"/>.
/// </param>
public sealed record DatasetItem(
    string Path, int LabelIndex, string Group, string SourceImageId, int WidthPixels, int HeightPixels, GroupKind GroupKind, int SourceIndex,
    double? Mpp = null);

/// <summary>What a dataset item's group stands for.</summary>
public enum GroupKind
{
    /// <summary>A patient, from a naming scheme (IDC, BreakHis).</summary>
    Patient,

    /// <summary>The group column of a CSV manifest.</summary>
    ManifestGroup,

    /// <summary>The source image the patch was cut from (no patient known).</summary>
    SourceImage,
}

/// <summary>A class of a dataset.</summary>
/// <param name="Name">Class name as found (folder name, manifest label, or the naming scheme's name).</param>
/// <param name="BachCode">
/// The BACH code (0 Normal, 1 Benign, 2 InSitu, 3 Invasive) the class maps to, or null when it has none
/// (BreakHis classes, arbitrary labels). BACH names map by name (case and punctuation ignored); IDC class 1 is
/// invasive carcinoma (3) and class 0 is not (0).
/// </param>
public sealed record DatasetClass(string Name, int? BachCode);

/// <summary>What kind of problem a <see cref="DatasetProblem"/> is.</summary>
public enum DatasetProblemKind
{
    /// <summary>A file without an image extension (README, CSV...), skipped.</summary>
    SkippedNonImage,

    /// <summary>An image file that cannot be read (corrupt, truncated, missing), left out.</summary>
    UnreadableImage,

    /// <summary>An image smaller than the usual size of its dataset (a border cut); handled by the size policy.</summary>
    SmallerThanUsual,

    /// <summary>An image whose label cannot be told (not inside a class folder, no naming scheme), left out.</summary>
    Unlabelled,

    /// <summary>The folder name and the naming scheme disagree on the label; the naming scheme wins.</summary>
    LabelConflict,

    /// <summary>A manifest row that points at a file that does not exist, left out.</summary>
    MissingFile,

    /// <summary>The same file listed twice (through overlapping paths or manifest rows); kept once.</summary>
    DuplicateEntry,

    /// <summary>A folder of the dataset (e.g. a class folder) with no image in it: that class is absent.</summary>
    EmptyFolder,

    /// <summary>An image that records no µm/px while others do: the dataset's <see cref="Dataset.Mpp"/> is assumed.</summary>
    MissingMpp,

    /// <summary>
    /// An image whose recorded µm/px differs from the dataset's by more than 1 % (but the dataset's scales lie within
    /// 10 % of each other): used at the dataset's <see cref="Dataset.Mpp"/>.
    /// </summary>
    DifferentMpp,

    /// <summary>A FIFO, socket or device where an image should be (opening it could block forever): skipped unopened.</summary>
    NotRegularFile,
}

/// <summary>Where a dataset's <see cref="Dataset.Mpp"/> comes from.</summary>
public enum DatasetMppSource
{
    /// <summary>No image records its µm/px and none was given: the scale is unknown.</summary>
    Unknown,

    /// <summary>Read from the image files (TIFF resolution tags): the median of the images that record one.</summary>
    ImageFiles,

    /// <summary>Given by the user (<see cref="DatasetLoadOptions.MppOverride"/>); what the files record is not checked.</summary>
    Override,

    /// <summary>
    /// The images record scales more than 10 % apart and <see cref="DatasetLoadOptions.AllowMixedScales"/> accepted
    /// them: there is no single scale (each image keeps its own <see cref="DatasetItem.Mpp"/>).
    /// </summary>
    Mixed,
}

/// <summary>A note about one file: skipped, unreadable, unusual size...</summary>
/// <param name="Kind">The kind of problem.</param>
/// <param name="Path">The file concerned.</param>
/// <param name="Message">One line a user can act on.</param>
public sealed record DatasetProblem(DatasetProblemKind Kind, string Path, string Message);

/// <summary>How a given path was understood.</summary>
/// <param name="Path">The path as given, made absolute.</param>
/// <param name="Scheme">
/// The layout: <c>idc</c>, <c>breakhis</c>, <c>class-folders</c>, <c>csv</c>, or a combination such as
/// <c>idc+class-folders</c> when files of several kinds were found under one folder.
/// </param>
/// <param name="ItemCount">Labelled images taken from this path.</param>
/// <param name="UsualWidthPixels">The most common image width under this path (0 when it has no images).</param>
/// <param name="UsualHeightPixels">The most common image height under this path.</param>
public sealed record DatasetSource(string Path, string Scheme, int ItemCount, int UsualWidthPixels, int UsualHeightPixels);
