using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;

namespace Histo.Viewer;

/// <summary>
/// Encoded images (tiles, thumbnails, overlays) rendered on demand: at most a given number rendered at once,
/// concurrent requests for the same key share one render, and results stay in a size-limited memory cache whose
/// least recently used entries are dropped first.
/// </summary>
internal sealed class RenderCache : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly SemaphoreSlim _renderSlots;
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]>>> _inFlight = new(StringComparer.Ordinal);
    private long _renders;

    public RenderCache(long sizeLimitBytes, int maxConcurrentRenders)
    {
        SizeLimitBytes = Math.Max(1, sizeLimitBytes);
        _cache = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = SizeLimitBytes,
            TrackStatistics = true,
            CompactionPercentage = 0.25,
        });
        _renderSlots = new SemaphoreSlim(Math.Max(1, maxConcurrentRenders));
    }

    /// <summary>The bound on cached bytes.</summary>
    public long SizeLimitBytes { get; }

    /// <summary>Bytes now cached (the cache's own estimate: the sum of entry sizes).</summary>
    public long CachedBytes => _cache.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    /// <summary>Entries now cached.</summary>
    public long CachedEntries => _cache.Count;

    /// <summary>Renders run since start (cache misses that were not shared with a running render).</summary>
    public long Renders => Interlocked.Read(ref _renders);

    /// <summary>The cached bytes for <paramref name="key"/>, rendering them (synchronously, in a render slot) if absent.</summary>
    public async Task<byte[]> GetOrRenderAsync(string key, Func<byte[]> render)
    {
        if (_cache.TryGetValue(key, out byte[]? hit) && hit != null)
        {
            return hit;
        }

        var shared = _inFlight.GetOrAdd(key, k => new Lazy<Task<byte[]>>(() => RenderAndStoreAsync(k, render)));
        try
        {
            return await shared.Value.ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(KeyValuePair.Create(key, shared));
        }
    }

    public void Dispose()
    {
        _cache.Dispose();
        _renderSlots.Dispose();
    }

    private async Task<byte[]> RenderAndStoreAsync(string key, Func<byte[]> render)
    {
        // Not cancellable: other requests may be waiting on this render.
        await _renderSlots.WaitAsync().ConfigureAwait(false);
        byte[] bytes;
        try
        {
            Interlocked.Increment(ref _renders);
            bytes = render();
        }
        finally
        {
            _renderSlots.Release();
        }

        if (bytes.Length <= SizeLimitBytes)
        {
            using var entry = _cache.CreateEntry(key);
            entry.Value = bytes;
            entry.Size = bytes.Length;
        }

        return bytes;
    }
}
