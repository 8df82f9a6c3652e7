using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Histo.Viewer;
using Xunit.Abstractions;

namespace Histo.Tests.Viewer;

/// <summary>
/// A burst of concurrent tile requests against a real server on 127.0.0.1. Runs alone (no other test in parallel)
/// so the process memory it measures is its own.
/// </summary>
[Collection(ViewerLoadCollection.Name)]
public class ViewerLoadTests(ITestOutputHelper output)
{
    private const int Requests = 1000;

    [Fact]
    public async Task Thousand_concurrent_tile_requests_all_succeed_with_a_bounded_cache()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "served"));
            File.Copy(TestPaths.A01Window, Path.Combine(root, "served", "A01-window.tif"));
            const long cacheLimit = 1L << 20; // far below what 1,000 tiles take, so eviction must happen
            await using var server = await ViewerServer.StartAsync(new ViewerOptions
            {
                SlidesFolder = Path.Combine(root, "served"),
                Port = 0,
                TileCacheSizeBytes = cacheLimit,
                MaxConcurrentDecodes = 2,
            });

            // Every tile of the four finest Deep Zoom levels (400 + 100 + 25 + 9), then repeats, shuffled.
            var distinct = new List<string>();
            foreach (var (level, tiles) in new[] { (13, 20), (12, 10), (11, 5), (10, 3) })
            {
                for (int row = 0; row < tiles; row++)
                {
                    for (int col = 0; col < tiles; col++)
                    {
                        distinct.Add($"/A01-window.tif_files/{level}/{col}_{row}.jpeg");
                    }
                }
            }

            var random = new Random(6);
            var urls = distinct.Concat(Enumerable.Range(0, Requests - distinct.Count).Select(_ => distinct[random.Next(distinct.Count)]))
                .OrderBy(_ => random.Next()).ToArray();
            Assert.Equal(Requests, urls.Length);

            using var process = Process.GetCurrentProcess();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
            process.Refresh();
            long workingSetBefore = process.WorkingSet64;
            long peakWorkingSet = workingSetBefore;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    process.Refresh();
                    peakWorkingSet = Math.Max(peakWorkingSet, process.WorkingSet64);
                    await Task.Delay(20);
                }
            });

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Requests };
            using var http = new HttpClient(handler) { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
            var sizes = new ConcurrentDictionary<string, int>();
            var responses = await Task.WhenAll(urls.Select(async url =>
            {
                using var response = await http.GetAsync(url);
                byte[] body = await response.Content.ReadAsByteArrayAsync();
                bool jpeg = body.Length > 100 && body[0] == 0xFF && body[1] == 0xD8 && body[^2] == 0xFF && body[^1] == 0xD9;
                sizes[url] = body.Length;
                return (response.StatusCode, jpeg);
            }));
            await sampling.CancelAsync();
            await sampler;

            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            Assert.All(responses, r => Assert.True(r.jpeg, "every body is a whole JPEG"));
            long distinctBytes = sizes.Values.Sum(v => (long)v);
            Assert.True(distinctBytes > 4 * cacheLimit, $"the tiles ({distinctBytes} bytes) overflow the cache bound several times");

            var stats = server.Statistics;
            output.WriteLine($"{Requests} requests, {distinct.Count} distinct tiles of {distinctBytes} bytes; cache {stats.CachedBytes} / {stats.CacheLimitBytes} bytes in {stats.CachedEntries} entries; {stats.Renders} renders; peak working-set growth {(peakWorkingSet - workingSetBefore) >> 20} MiB");
            Assert.Equal(cacheLimit, stats.CacheLimitBytes);
            Assert.InRange(stats.CachedBytes, 1, cacheLimit);
            Assert.True(stats.Renders >= distinct.Count, "each distinct tile was rendered at least once");

            GC.Collect();
            GC.WaitForPendingFinalizers();
            long managedAfter = GC.GetTotalMemory(forceFullCollection: true);
            output.WriteLine($"managed heap growth after the burst {(managedAfter - managedBefore) >> 10} KiB");
            Assert.True(managedAfter - managedBefore < 64L << 20, $"managed heap grew by {(managedAfter - managedBefore) >> 20} MiB after the burst");
            Assert.True(peakWorkingSet - workingSetBefore < 1L << 30, $"working set grew by {(peakWorkingSet - workingSetBefore) >> 20} MiB during the burst");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ViewerLoadCollection
{
    public const string Name = "viewer-load";
}
