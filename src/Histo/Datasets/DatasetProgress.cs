namespace Histo.Datasets;

/// <summary>Progress of a long dataset operation (reading headers, hashing images).</summary>
/// <param name="Stage">What is being done, e.g. <c>reading image sizes</c>.</param>
/// <param name="Done">Items finished.</param>
/// <param name="Total">Items in all.</param>
public readonly record struct DatasetProgress(string Stage, int Done, int Total);
