using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Reliability;

/// <summary>
/// The native OpenSlide handle: released exactly once (SafeHandle), every read after Dispose raises
/// ObjectDisposedException, a Dispose racing reads never frees the handle under a running native call, and reads
/// from several threads on one slide give the same bytes as sequential reads.
/// </summary>
public sealed class NativeSafetyTests
{
    public static TheoryData<string> SlidePaths => new(TestPaths.CmuSmall, TestPaths.Tcga, TestPaths.A01Window, TestPaths.Shared("microscopy", "bach", "Normal", "normal.png"));

    [Fact]
    public void Dispose_releases_the_native_handle_once_even_when_called_from_many_threads()
    {
        // 50 open-read-dispose cycles, each disposed from 8 threads at once and once more after. The handle is a
        // SafeHandle, whose ReleaseHandle (openslide_close) runs once however often Dispose is called; a second
        // openslide_close of the same openslide_t would be a double free and abort or corrupt this process.
        for (int i = 0; i < 50; i++)
        {
            var slide = (OpenSlideSlide)Slide.Open(TestPaths.CmuSmall);
            var handle = (System.Runtime.InteropServices.SafeHandle)typeof(OpenSlideSlide)
                .GetField("_handle", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(slide)!;
            slide.ReadRegion(500 + i, 500, 0, 64, 64);
            Assert.False(handle.IsClosed);
            Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => slide.Dispose());
            slide.Dispose();
            Assert.True(handle.IsClosed);
            Assert.Throws<ObjectDisposedException>(() => slide.ReadRegion(0, 0, 0, 8, 8));
        }

        // The library still works after all that: nothing was freed twice.
        using var again = Slide.Open(TestPaths.CmuSmall);
        Assert.Equal(64 * 64 * 4, again.ReadRegion(700, 700, 0, 64, 64).Pixels.Length);
    }

    [Theory]
    [MemberData(nameof(SlidePaths))]
    public void Every_read_after_dispose_raises_ObjectDisposedException(string path)
    {
        var slide = Slide.Open(path);
        string? associated = slide.AssociatedImageNames.FirstOrDefault();
        slide.Dispose();
        slide.Dispose();

        Assert.Throws<ObjectDisposedException>(() => slide.ReadRegion(0, 0, 0, 16, 16));
        Assert.Throws<ObjectDisposedException>(() => slide.ReadRegion(0, 0, 0, new RgbaImage(16, 16)));
        Assert.Throws<ObjectDisposedException>(() => slide.GetThumbnail(64));
        if (associated != null)
        {
            Assert.Throws<ObjectDisposedException>(() => slide.ReadAssociatedImage(associated));
        }

        // Metadata read at open stays available.
        Assert.True(slide.Width > 0 && slide.LevelCount > 0);
    }

    [Fact]
    public void Dispose_racing_reads_never_crashes_each_read_completes_or_raises_ObjectDisposedException()
    {
        using var reference = Slide.Open(TestPaths.CmuSmall);
        byte[] expected = reference.ReadRegion(1000, 1200, 0, 128, 128).Pixels;
        for (int round = 0; round < 5; round++)
        {
            var slide = Slide.Open(TestPaths.CmuSmall);
            int completed = 0, disposed = 0;
            using var start = new Barrier(5);
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 40; i++)
                {
                    try
                    {
                        byte[] pixels = slide.ReadRegion(1000, 1200, 0, 128, 128).Pixels;
                        Assert.Equal(expected, pixels);
                        Interlocked.Increment(ref completed);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref disposed);
                    }
                }
            })).ToArray();
            start.SignalAndWait();
            Thread.Sleep(round * 3);
            slide.Dispose();
            Task.WaitAll(readers);
            Assert.Equal(160, completed + disposed);
        }
    }

    [Theory]
    [InlineData("cmu")]
    [InlineData("tcga")]
    public void Four_threads_reading_one_slide_get_the_bytes_of_sequential_reads(string which)
    {
        string path = which == "cmu" ? TestPaths.CmuSmall : TestPaths.Tcga;
        using var slide = Slide.Open(path);
        var random = new Random(8);
        var regions = Enumerable.Range(0, 32).Select(_ =>
        {
            int level = random.Next(slide.LevelCount);
            return (X: random.NextInt64(slide.Width - 200), Y: random.NextInt64(slide.Height - 200), Level: level, Size: random.Next(32, 160));
        }).ToArray();
        byte[][] sequential = regions.Select(r => slide.ReadRegion(r.X, r.Y, r.Level, r.Size, r.Size).Pixels).ToArray();

        // Each thread reads every region, in its own order, half of them into a reused buffer.
        var threads = Enumerable.Range(0, 4).Select(t => Task.Factory.StartNew(() =>
        {
            var order = Enumerable.Range(0, regions.Length).OrderBy(i => (i * (t + 3)) % regions.Length).ToArray();
            var buffers = new Dictionary<int, RgbaImage>();
            foreach (int i in order)
            {
                var r = regions[i];
                byte[] pixels;
                if (i % 2 == 0)
                {
                    pixels = slide.ReadRegion(r.X, r.Y, r.Level, r.Size, r.Size).Pixels;
                }
                else
                {
                    if (!buffers.TryGetValue(r.Size, out var buffer))
                    {
                        buffers[r.Size] = buffer = new RgbaImage(r.Size, r.Size);
                    }

                    slide.ReadRegion(r.X, r.Y, r.Level, buffer);
                    pixels = buffer.Pixels;
                }

                Assert.True(sequential[i].AsSpan().SequenceEqual(pixels), $"thread {t}: region {i} differs from the sequential read");
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Task.WaitAll(threads);
    }
}
