namespace Histo.Cli.Rendering;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls its action on the reporting thread, at once. <see cref="Progress{T}"/>
/// posts to the thread pool instead, so its last reports could land after the command printed its result.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc />
    public void Report(T value) => report(value);
}
