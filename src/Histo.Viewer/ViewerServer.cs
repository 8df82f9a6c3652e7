using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Histo.Outputs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;

namespace Histo.Viewer;

/// <summary>Figures of a running viewer, for tests and diagnostics.</summary>
/// <param name="CachedBytes">Bytes held by the tile/overlay cache now.</param>
/// <param name="CacheLimitBytes">The cache's bound.</param>
/// <param name="CachedEntries">Entries in the cache now.</param>
/// <param name="Renders">Tiles, thumbnails and overlays rendered since start.</param>
public readonly record struct ViewerStatistics(long CachedBytes, long CacheLimitBytes, long CachedEntries, long Renders);

/// <summary>
/// The slide viewer: an in-process ASP.NET Core (Kestrel) server with a slide list, OpenSeadragon slide pages over
/// Deep Zoom tiles made on the fly, and prediction overlays. Start it with <see cref="StartAsync"/>; dispose to stop.
/// <para>
/// Endpoints: <c>/</c> (slide list), <c>/view/{slide}</c> (slide page), <c>/{slide}.dzi</c> and
/// <c>/{slide}_files/{level}/{column}_{row}.jpeg</c> (Deep Zoom), <c>/thumbnail/{slide}</c>, <c>/api/slides</c>,
/// <c>/api/slides/{slide}</c>, <c>/api/annotations/{slide}</c> (prediction and ground-truth polygons),
/// <c>/api/probabilities/{slide}?x=&amp;y=</c> (the prediction's class probabilities at a level-0 point),
/// <c>/predictions/{slide}/{file}</c> (<c>classmap.png?hide=1,3</c> leaves those classes out),
/// <c>/truth/{slide}/{label mask file}?hide=</c> (a ground-truth label mask beside the slide, in class colours) and
/// <c>/static/...</c>. A slide is named by its path relative to the served folder. Nothing outside the served
/// folders is reachable, and the server writes nothing to disk.
/// </para>
/// </summary>
public sealed class ViewerServer : IAsyncDisposable
{
    private static readonly Regex TilePath = new(@"^/(?<slide>.+)_files/(?<level>[^/]+)/(?<column>[^/_]+)_(?<row>[^/_]+)\.jpeg$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    private readonly WebApplication _app;
    private readonly SlideLibrary _library;

    private ViewerServer(WebApplication app, SlideLibrary library)
    {
        _app = app;
        _library = library;
    }

    /// <summary>The address the server listens on, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Cache and render figures now.</summary>
    public ViewerStatistics Statistics => new(_library.Renders.CachedBytes, _library.Renders.SizeLimitBytes, _library.Renders.CachedEntries, _library.Renders.Renders);

    /// <summary>
    /// Starts serving and returns once the socket is bound. Throws <see cref="ViewerStartException"/> for a missing
    /// folder, a host that is not an IP address or <c>localhost</c>, a port in use, or missing page assets.
    /// </summary>
    public static async Task<ViewerServer> StartAsync(ViewerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IPAddress ip = ParseHost(options.Host);
        if (options.Port is < 0 or > 65535)
        {
            throw new ViewerStartException($"port must be between 0 and 65535, got {options.Port}");
        }

        string webRoot = options.WebRootFolder ?? Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!File.Exists(Path.Combine(webRoot, "openseadragon", "openseadragon.min.js")) || !File.Exists(Path.Combine(webRoot, "viewer.js")))
        {
            throw new ViewerStartException($"the viewer's page assets are missing from {webRoot} (rebuild Histo.Viewer; its build copies OpenSeadragon from npm)");
        }

        var library = new SlideLibrary(options);
        try
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ViewerServer).Assembly.GetName().Name, ContentRootPath = webRoot });
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Listen(ip, options.Port);
            });
            builder.Services.AddRoutingCore();
            var app = builder.Build();
            var server = new ViewerServer(app, library);
            server.Configure(app, webRoot, IPAddress.IsLoopback(ip));
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                string problem = $"cannot listen on {options.Host}:{options.Port} ({e.Message})";
                throw new ViewerStartException(problem, HistoParameter.Port, $"{problem}; choose another port", e);
            }

            string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new ViewerStartException($"the server did not report the address it bound on {options.Host}:{options.Port}");
            server.Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
            return server;
        }
        catch
        {
            library.Dispose();
            throw;
        }
    }

    /// <summary>Stops accepting requests and finishes those in progress.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Stops the server and releases the open slides and the cache.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _library.Dispose();
        }
    }

    private static IPAddress ParseHost(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        throw new ViewerStartException($"host must be an IP address (e.g. 127.0.0.1 or 0.0.0.0) or localhost, got '{host}'");
    }

    private void Configure(WebApplication app, string webRoot, bool loopbackOnly)
    {
        app.Use(HandleErrorsAsync);
        if (loopbackOnly)
        {
            // A server on the loopback interface answers only to loopback host names (defeats DNS rebinding).
            app.Use(async (context, next) =>
            {
                string host = context.Request.Host.Host;
                if (host is "localhost" or "127.0.0.1" or "[::1]" or "::1")
                {
                    await next(context).ConfigureAwait(false);
                    return;
                }

                await PlainAsync(context, StatusCodes.Status400BadRequest, "unknown host name: this viewer answers on 127.0.0.1 or localhost only").ConfigureAwait(false);
            });
        }

        app.Use(async (context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.Headers.Allow = "GET, HEAD";
                await PlainAsync(context, StatusCodes.Status405MethodNotAllowed, "only GET and HEAD are served").ConfigureAwait(false);
                return;
            }

            if (!await TryDeepZoomAsync(context).ConfigureAwait(false))
            {
                await next(context).ConfigureAwait(false);
            }
        });

        var contentTypes = new FileExtensionContentTypeProvider();
        contentTypes.Mappings[".map"] = "application/json";
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = "/static",
            FileProvider = new PhysicalFileProvider(webRoot),
            ContentTypeProvider = contentTypes,
            ServeUnknownFileTypes = false,
        });

        app.MapGet("/", IndexAsync);
        app.MapGet("/view/{**slide}", SlidePageAsync);
        app.MapGet("/thumbnail/{**slide}", ThumbnailAsync);
        app.MapGet("/api/slides", context => JsonAsync(context, _library.ListSlides()));
        app.MapGet("/api/slides/{**slide}", SlideInfoAsync);
        app.MapGet("/api/annotations/{**slide}", AnnotationsAsync);
        app.MapGet("/api/probabilities/{**slide}", ProbabilitiesAsync);
        app.MapGet("/predictions/{**path}", PredictionAsync);
        app.MapGet("/truth/{**path}", TruthMaskAsync);
        app.MapFallback(context => PlainAsync(context, StatusCodes.Status404NotFound, "not found"));
    }

    private async Task HandleErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (HistoException e) when (!context.Response.HasStarted)
        {
            // A slide or prediction file that exists but cannot be used: the request was fine, the content is not.
            await PlainAsync(context, StatusCodes.Status422UnprocessableEntity, _library.Sanitize(e.Message)).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryDeepZoomAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        if (path.EndsWith(".dzi", StringComparison.Ordinal) && path.Length > 5)
        {
            string name = path[1..^4];
            if (!_library.TryOpen(name, out var lease))
            {
                await NotFoundAsync(context, name).ConfigureAwait(false);
                return true;
            }

            using (lease)
            {
                context.Response.Headers.CacheControl = "no-cache";
                await WriteAsync(context, "application/xml; charset=utf-8", Encoding.UTF8.GetBytes(SlideLibrary.Descriptor(lease.Slide))).ConfigureAwait(false);
            }

            return true;
        }

        var match = TilePath.Match(path);
        if (!match.Success)
        {
            return false;
        }

        string slide = match.Groups["slide"].Value;
        if (!TryParseIndex(match.Groups["level"].Value, out long level) || !TryParseIndex(match.Groups["column"].Value, out long column)
            || !TryParseIndex(match.Groups["row"].Value, out long row) || level > int.MaxValue)
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, "no such tile: level, column and row must be whole numbers").ConfigureAwait(false);
            return true;
        }

        if (!_library.TryOpen(slide, out var tileLease))
        {
            await NotFoundAsync(context, slide).ConfigureAwait(false);
            return true;
        }

        byte[] jpeg;
        using (tileLease)
        {
            var pending = _library.GetTileAsync(slide, tileLease.Slide, (int)level, column, row);
            if (pending == null)
            {
                await PlainAsync(context, StatusCodes.Status404NotFound, $"no tile {column}_{row} at level {level} of {slide}").ConfigureAwait(false);
                return true;
            }

            jpeg = await pending.ConfigureAwait(false);
        }

        context.Response.Headers.CacheControl = "public, max-age=3600";
        await WriteAsync(context, "image/jpeg", jpeg).ConfigureAwait(false);
        return true;
    }

    /// <summary>A tile index as Deep Zoom writes it: ASCII digits only, no sign or spaces, at most 9 digits.</summary>
    private static bool TryParseIndex(string text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 9 || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        value = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    private async Task IndexAsync(HttpContext context)
    {
        var slides = _library.ListSlides();
        await HtmlAsync(context, Pages.Index(slides, Path.GetFileName(_library.Slides.RealFolder), _library.Predictions != null)).ConfigureAwait(false);
    }

    private async Task SlidePageAsync(HttpContext context)
    {
        string name = RouteName(context, "slide");
        if (!_library.TryOpen(name, out var lease))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var description = _library.Describe(name, lease.Slide);
            await HtmlAsync(context, Pages.Slide(name, description, JsonSerializer.Serialize(description, Json))).ConfigureAwait(false);
        }
    }

    private async Task SlideInfoAsync(HttpContext context)
    {
        string name = RouteName(context, "slide");
        if (!_library.TryOpen(name, out var lease))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            await JsonAsync(context, _library.Describe(name, lease.Slide)).ConfigureAwait(false);
        }
    }

    private async Task ThumbnailAsync(HttpContext context)
    {
        string name = RouteName(context, "slide");
        if (!_library.TryOpen(name, out var lease))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }

        byte[] jpeg;
        using (lease)
        {
            jpeg = await _library.GetThumbnailAsync(lease.Slide).ConfigureAwait(false);
        }

        context.Response.Headers.CacheControl = "public, max-age=3600";
        await WriteAsync(context, "image/jpeg", jpeg).ConfigureAwait(false);
    }

    private async Task AnnotationsAsync(HttpContext context)
    {
        string name = RouteName(context, "slide");
        if (!_library.IsSlide(name))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }

        await JsonAsync(context, new { layers = _library.ReadAnnotations(name) }).ConfigureAwait(false);
    }

    private async Task PredictionAsync(HttpContext context)
    {
        if (await SlideFileRequestAsync(context).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var (name, file, hidden) = request;

        if (await _library.GetPredictionFileAsync(name, file, hidden).ConfigureAwait(false) is not { } found)
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, $"no prediction file '{file}' for {name}").ConfigureAwait(false);
            return;
        }

        context.Response.Headers.CacheControl = "no-cache";
        await WriteAsync(context, found.ContentType, found.Bytes).ConfigureAwait(false);
    }

    private async Task TruthMaskAsync(HttpContext context)
    {
        if (await SlideFileRequestAsync(context).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var (name, file, hidden) = request;

        if (await _library.GetTruthMaskAsync(name, file, hidden).ConfigureAwait(false) is not { } png)
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, $"no ground-truth label mask '{file}' beside {name}").ConfigureAwait(false);
            return;
        }

        context.Response.Headers.CacheControl = "no-cache";
        await WriteAsync(context, "image/png", png).ConfigureAwait(false);
    }

    /// <summary>
    /// A request for a file of a slide (<c>{slide}/{file}?hide=...</c>): the slide, the file name and the hidden classes;
    /// null when the reply (404 for no such slide, 400 for a bad <c>hide</c>) has been written.
    /// </summary>
    private async Task<(string Name, string File, IReadOnlySet<int> Hidden)?> SlideFileRequestAsync(HttpContext context)
    {
        string path = RouteName(context, "path");
        int slash = path.LastIndexOf('/');
        if (slash <= 0)
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, "not found").ConfigureAwait(false);
            return null;
        }

        string name = path[..slash], file = path[(slash + 1)..];
        if (!_library.IsSlide(name))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return null;
        }

        if (!TryParseHidden(context, out var hidden))
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, "hide must list class indices separated by commas, e.g. ?hide=0,2").ConfigureAwait(false);
            return null;
        }

        return (name, file, hidden);
    }

    private async Task ProbabilitiesAsync(HttpContext context)
    {
        string name = RouteName(context, "slide");
        if (!_library.IsSlide(name))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }

        if (!TryParseCoordinate(context, "x", out double x) || !TryParseCoordinate(context, "y", out double y))
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, "give the point as level-0 pixel coordinates, e.g. ?x=1200&y=800").ConfigureAwait(false);
            return;
        }

        if (_library.ProbabilitiesAt(name, x, y) is not { } found)
        {
            await PlainAsync(context, StatusCodes.Status404NotFound, $"no prediction with a patch table ({SlideOutputs.Patches}) and {SlideOutputs.Geometry} for {name}").ConfigureAwait(false);
            return;
        }

        context.Response.Headers.CacheControl = "no-cache";
        await JsonAsync(context, found).ConfigureAwait(false);
    }

    private static bool TryParseCoordinate(HttpContext context, string key, out double value)
    {
        value = 0;
        var values = context.Request.Query[key];
        return values.Count == 1 && values[0] is { Length: > 0 and <= 32 } text
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    /// <summary>The <c>hide</c> query: class indices 0..255 separated by commas (empty or absent: none).</summary>
    private static bool TryParseHidden(HttpContext context, out IReadOnlySet<int> hidden)
    {
        var set = new HashSet<int>();
        hidden = set;
        var values = context.Request.Query["hide"];
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1 || values[0] is not { Length: <= 1024 } text)
        {
            return false;
        }

        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Length > 3 || !part.All(char.IsAsciiDigit) || int.Parse(part, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }

            set.Add(int.Parse(part, CultureInfo.InvariantCulture));
        }

        return true;
    }

    private static string RouteName(HttpContext context, string key) => context.GetRouteValue(key) as string ?? "";

    private static Task NotFoundAsync(HttpContext context, string name) =>
        PlainAsync(context, StatusCodes.Status404NotFound, $"no slide named '{name}' in the served folder");

    private static Task PlainAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return WriteAsync(context, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"));
    }

    private static Task JsonAsync(HttpContext context, object value) =>
        WriteAsync(context, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(value, Json));

    private static Task HtmlAsync(HttpContext context, string html)
    {
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        context.Response.Headers.CacheControl = "no-cache";
        return WriteAsync(context, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(html));
    }

    private static async Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
