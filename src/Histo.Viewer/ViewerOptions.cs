namespace Histo.Viewer;

/// <summary>What <see cref="ViewerServer"/> serves and how.</summary>
public sealed class ViewerOptions
{
    /// <summary>The folder whose slides are served (subfolders included). Nothing outside it is reachable.</summary>
    public required string SlidesFolder { get; init; }

    /// <summary>
    /// The whole-slide pipeline's output folder (<c>OUT</c>, holding <c>OUT/&lt;slide name&gt;/geometry.json</c>, ...),
    /// or null for no prediction overlays.
    /// </summary>
    public string? PredictionsFolder { get; init; }

    /// <summary>Address to bind: an IP address or <c>localhost</c>. Loopback only unless told otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="ViewerServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Upper bound of the in-memory tile cache (encoded JPEG/PNG bytes); least recently used entries go first.</summary>
    public long TileCacheSizeBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Tiles decoded at the same time; bounds the memory a burst of requests can take.</summary>
    public int MaxConcurrentDecodes { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Slides kept open at once (each OpenSlide handle holds its own cache).</summary>
    public int MaxOpenSlides { get; init; } = 16;

    /// <summary>JPEG quality of Deep Zoom tiles (1-100).</summary>
    public int JpegQuality { get; init; } = 80;

    /// <summary>
    /// Folder holding the page assets (viewer.js, viewer.css, openseadragon/); defaults to <c>wwwroot</c> beside the
    /// program, where the build puts them.
    /// </summary>
    public string? WebRootFolder { get; init; }
}
