using System.Globalization;
using Histo.Slides;

namespace Histo.Viewer;

/// <summary>An open slide with its Deep Zoom geometry and background colour.</summary>
internal sealed class OpenedSlide : IDisposable
{
    public OpenedSlide(Slide slide, string stamp)
    {
        Slide = slide;
        Stamp = stamp;
        DeepZoom = new DeepZoomGenerator(slide);
        Background = ParseBackground(slide.Properties.TryGetValue("openslide.background-color", out var hex) ? hex : null);
    }

    public Slide Slide { get; }

    public DeepZoomGenerator DeepZoom { get; }

    /// <summary>Changes when the file changes (modification time and length), so cached tiles of an old file are not reused.</summary>
    public string Stamp { get; }

    public (byte R, byte G, byte B) Background { get; }

    public void Dispose() => Slide.Dispose();

    private static (byte, byte, byte) ParseBackground(string? hex)
    {
        if (hex is { Length: 6 } && int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int rgb))
        {
            return ((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
        }

        return (255, 255, 255);
    }
}

/// <summary>
/// Keeps at most a given number of slides open, least recently used closed first. A slide is closed only once no
/// request holds a lease on it, so a tile being read is never pulled from under its reader.
/// </summary>
internal sealed class SlidePool : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly int _capacity;
    private bool _disposed;

    public SlidePool(int capacity) => _capacity = Math.Max(1, capacity);

    /// <summary>Opens (or reuses) the slide at a real path; dispose the lease when done. Throws <see cref="SlideOpenException"/>.</summary>
    public Lease Acquire(string realPath)
    {
        var info = new FileInfo(realPath);
        if (!info.Exists)
        {
            throw new SlideOpenException(realPath, $"{realPath}: file not found");
        }

        string stamp = string.Create(CultureInfo.InvariantCulture, $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}");
        string key = realPath + "\n" + stamp;
        Entry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(key, out var found))
            {
                entry = found;
                _recency.Remove(entry.Node);
                _recency.AddFirst(entry.Node);
            }
            else
            {
                entry = new Entry(key, realPath, stamp);
                _entries[key] = entry;
                _recency.AddFirst(entry.Node);
                while (_entries.Count > _capacity && _recency.Last is { } oldest && oldest.Value != entry)
                {
                    Evict(oldest.Value);
                }
            }

            entry.Leases++;
        }

        try
        {
            return new Lease(this, entry, entry.Opened.Value);
        }
        catch
        {
            lock (_gate)
            {
                // A file that failed to open is forgotten, so a fixed file is retried on the next request.
                if (_entries.TryGetValue(key, out var current) && current == entry)
                {
                    Evict(entry);
                }

                ReleaseLocked(entry);
            }

            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var entry in _entries.Values.ToList())
            {
                Evict(entry);
            }
        }
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            ReleaseLocked(entry);
        }
    }

    private void ReleaseLocked(Entry entry)
    {
        entry.Leases--;
        if (entry.Leases == 0 && entry.Evicted)
        {
            entry.Close();
        }
    }

    private void Evict(Entry entry)
    {
        _entries.Remove(entry.Key);
        _recency.Remove(entry.Node);
        entry.Evicted = true;
        if (entry.Leases == 0)
        {
            entry.Close();
        }
    }

    /// <summary>A slide in use; disposing it lets the pool close the slide later.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly SlidePool _pool;
        private readonly Entry _entry;
        private int _released;

        internal Lease(SlidePool pool, Entry entry, OpenedSlide slide)
        {
            _pool = pool;
            _entry = entry;
            Slide = slide;
        }

        public OpenedSlide Slide { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _pool.Release(_entry);
            }
        }
    }

    internal sealed class Entry
    {
        public Entry(string key, string realPath, string stamp)
        {
            Key = key;
            Node = new LinkedListNode<Entry>(this);
            Opened = new Lazy<OpenedSlide>(() => new OpenedSlide(Histo.Slides.Slide.Open(realPath), stamp), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        public string Key { get; }

        public LinkedListNode<Entry> Node { get; }

        public Lazy<OpenedSlide> Opened { get; }

        public int Leases { get; set; }

        public bool Evicted { get; set; }

        public void Close()
        {
            if (Opened.IsValueCreated)
            {
                Opened.Value.Dispose();
            }
        }
    }
}
