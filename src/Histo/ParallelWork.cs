using System.Runtime.ExceptionServices;

namespace Histo;

/// <summary>Parallel loops that fail with the first error itself (a typed HistoException), not an AggregateException.</summary>
internal static class ParallelWork
{
    /// <summary>Runs <paramref name="body"/> for 0..count-1 on up to <paramref name="maxParallelism"/> threads.</summary>
    public static void For(int count, int maxParallelism, CancellationToken cancellationToken, Action<int> body)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxParallelism), CancellationToken = cancellationToken };
        try
        {
            Parallel.For(0, count, options, body);
        }
        catch (AggregateException e)
        {
            var first = e.Flatten().InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
    }
}
