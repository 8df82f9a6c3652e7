using System.Net;

namespace Histo.Tests.Viewer;

/// <summary>
/// Only files under the served folders are reachable. Requests are sent over a raw socket so that "..", "%2e%2e",
/// "%2f" and "//" reach the server exactly as written (HttpClient would normalise some of them away).
/// </summary>
[Collection(ViewerCollection.Name)]
public class ViewerTraversalTests(ViewerFixture fx)
{
    public static TheoryData<string> Traversals => new()
    {
        // Plain and encoded parent segments, in every endpoint.
        "/../outside/small.svs.dzi",
        "/%2e%2e/outside/small.svs.dzi",
        "/%2E%2E/outside/small.svs_files/0/0_0.jpeg",
        "/..%2foutside%2fsmall.svs.dzi",
        "/..%2Foutside%2Fsmall.svs_files/0/0_0.jpeg",
        "/%2e%2e%2foutside%2fsmall.svs.dzi",
        "/sub%20dir/..%2F..%2Foutside%2Fsmall.svs.dzi",
        "/view/../../outside/small.svs",
        "/view/%2e%2e/%2e%2e/outside/small.svs",
        "/view/..%2f..%2foutside%2fsmall.svs",
        "/view/sub%20dir%2f..%2f..%2foutside%2fsmall.svs",
        "/thumbnail/..%2Foutside%2Fsmall.svs",
        "/thumbnail/%2e%2e%2foutside%2fsmall.svs",
        "/api/slides/..%2Foutside%2Fsmall.svs",
        "/api/annotations/..%2Foutside%2Fsmall.svs",
        "/predictions/A01-window.tif/..%2F..%2Foutside%2Fsecret.txt",
        "/predictions/A01-window.tif/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
        "/predictions/..%2Foutside%2Fsmall.svs/heatmap.png",
        "/predictions/A01-window.tif/../../outside/secret.txt",
        "/truth/A01-window.tif/..%2F..%2Foutside%2Fsecret.txt",
        "/truth/A01-window.tif/%2e%2e%2foutside%2fsmall.svs",
        "/truth/..%2Foutside%2Fsmall.svs/small.png",
        "/api/probabilities/..%2Foutside%2Fsmall.svs?x=1&y=1",
        "/static/..%2f..%2fHisto.Viewer.dll",
        "/static/%2e%2e/%2e%2e/outside/secret.txt",
        "/static/..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",
        // Backslashes and dot segments.
        "/view/..%5Coutside%5Csmall.svs",
        "/..%5Coutside%5Csmall.svs.dzi",
        "/view/sub%20dir/%2e%2e/%2e%2e/%2e%2e/outside/small.svs",
        "/view/%2e",
        "/view/",
        "/.hidden.svs.dzi",
        // Absolute paths.
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/view//etc/passwd",
        "/view/%2Fetc%2Fpasswd",
        "/thumbnail/%2FOUTSIDE%2Fsmall.svs",
        "/OUTSIDE/small.svs.dzi",
        "//OUTSIDE/small.svs.dzi",
        "/%2FOUTSIDE%2Fsmall.svs_files/0/0_0.jpeg",
        "/view/%2FOUTSIDE%2Fsmall.svs",
        "/api/slides//OUTSIDE/small.svs",
        "/predictions/%2FOUTSIDE%2Fsmall.svs/heatmap.png",
        // Symbolic links leading outside: to a file, absolute, and through a linked folder.
        "/outside-link.svs.dzi",
        "/outside-link.svs_files/0/0_0.jpeg",
        "/view/outside-link.svs",
        "/thumbnail/outside-link.svs",
        "/abs-link.svs.dzi",
        "/abs-link.svs_files/4/0_0.jpeg",
        "/linkdir/small.svs.dzi",
        "/linkdir/small.svs_files/0/0_0.jpeg",
        "/view/linkdir/small.svs",
        "/thumbnail/linkdir/small.svs",
        "/api/slides/linkdir/small.svs",
        "/linkdir/secret.svs.dzi",
    };

    [Theory]
    [MemberData(nameof(Traversals))]
    public async Task Paths_leading_outside_the_served_folder_give_404(string target)
    {
        string sent = target.Replace("OUTSIDE", fx.Outside.TrimStart('/'), StringComparison.Ordinal);
        var (status, body) = await fx.RawGetAsync(sent);
        Assert.Equal(404, status);
        Assert.DoesNotContain(ViewerFixture.SecretText, body, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", body, StringComparison.Ordinal);
        if (!target.Contains("OUTSIDE", StringComparison.Ordinal))
        {
            // The server's own paths never appear in a reply (a name the client sent may be echoed back).
            Assert.DoesNotContain(fx.Root, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_same_slide_inside_the_folder_is_served()
    {
        // The outside slide is a copy of small.svs, which is served from inside as "sub dir/tiny ü.svs": the 404s
        // above come from where the file is, not from what it is. A link that stays inside is followed.
        var (status, _) = await fx.RawGetAsync("/sub%20dir/tiny%20%C3%BC.svs.dzi");
        Assert.Equal(200, status);
        Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/inside-link.svs_files/12/0_0.jpeg")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/view/inside-link.svs")).StatusCode);
    }

    [Fact]
    public async Task Null_bytes_and_malformed_requests_never_reach_a_file()
    {
        foreach (string target in new[] { "/view/cmu-1-small-region.svs%00.png", "/%00/etc/passwd", "/view/%ZZ" })
        {
            var (status, body) = await fx.RawGetAsync(target);
            Assert.True(status is 400 or 404, $"{target}: {status}");
            Assert.DoesNotContain("root:", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Serving_writes_nothing_to_disk()
    {
        var before = Snapshot();
        foreach (string path in new[]
        {
            "/", "/api/slides", "/view/A01-window.tif", "/A01-window.tif.dzi", "/A01-window.tif_files/12/3_4.jpeg",
            "/thumbnail/A01-window.tif", "/api/annotations/A01-window.tif", "/predictions/A01-window.tif/classmap.png",
            "/predictions/A01-window.tif/heatmap.png", "/broken.svs.dzi",
        })
        {
            await fx.Http.GetAsync(path);
        }

        Assert.Equal(before, Snapshot());
    }

    private string Snapshot() => string.Join("\n", Directory.EnumerateFileSystemEntries(fx.Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
        .Order(StringComparer.Ordinal)
        .Select(p => $"{p} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {File.GetLastWriteTimeUtc(p).Ticks}"));
}
