using Histo.Color;
using Histo.Datasets;
using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Patches;

namespace Histo.Learning.Training;

/// <summary>
/// The dataset's images as the network sees them before augmentation: decoded (border cuts padded by the dataset's
/// size policy), stain-normalised when asked, resized to the input size. The same steps as
/// <see cref="PatchClassifier.Preprocess"/>, so training and inference see the same pixels. Kept in memory when they
/// fit in <see cref="MaxCacheBytes"/>, recomputed on every use otherwise.
/// </summary>
internal sealed class PreparedImages
{
    /// <summary>Largest total size of cached images.</summary>
    public const long MaxCacheBytes = 3L << 30;

    private readonly Dataset dataset;
    private readonly IStainNormalizer? normalizer;
    private readonly RgbaImage?[]? cache;

    public PreparedImages(Dataset dataset, int inputSizePixels, IStainNormalizer? normalizer)
    {
        this.dataset = dataset;
        this.normalizer = normalizer;
        InputSizePixels = inputSizePixels;
        long bytes = (long)dataset.Items.Count * inputSizePixels * inputSizePixels * RgbaImage.Channels;
        cache = bytes <= MaxCacheBytes ? new RgbaImage?[dataset.Items.Count] : null;
    }

    public int InputSizePixels { get; }

    public int Count => dataset.Items.Count;

    /// <summary>Decodes every image once (filling the cache, or just checking it decodes); fails on the first unreadable one.</summary>
    public void PrepareAll(int parallelism, Action<int> reportDone, CancellationToken cancellationToken)
    {
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        try
        {
            Parallel.For(0, Count, options, i =>
            {
                RgbaImage image = Load(i);
                if (cache != null)
                {
                    cache[i] = image;
                }

                int n = Interlocked.Increment(ref done);
                if (n % 256 == 0 || n == Count)
                {
                    reportDone(n);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is HistoException) is HistoException first)
        {
            throw new HistoException($"unreadable training image: {first.Message}", first);
        }
    }

    /// <summary>The prepared image of item <paramref name="index"/> (shared when cached: do not modify).</summary>
    public RgbaImage Get(int index) => cache?[index] ?? Load(index);

    private RgbaImage Load(int index)
    {
        RgbaImage image = dataset.LoadImage(dataset.Items[index]);
        if (normalizer != null)
        {
            image = normalizer.Normalize(image).Image;
        }

        return image.Width == InputSizePixels && image.Height == InputSizePixels ? image : ImageIO.Resize(image, InputSizePixels, InputSizePixels);
    }
}

/// <summary>One batch ready for the network: input planes and labels.</summary>
internal sealed record PreparedBatch(float[] Inputs, long[] Labels, int[] Items, int Count);

/// <summary>
/// Produces batches on a background thread (decode, augment, fill the input planes in parallel) while the network
/// computes on the previous batch. The order and every augmentation come from the seed, so the batches are the same
/// whatever the thread timing.
/// </summary>
internal sealed class BatchPipeline : IDisposable
{
    private readonly System.Collections.Concurrent.BlockingCollection<PreparedBatch> queue = new(boundedCapacity: 3);
    private readonly CancellationTokenSource stop;
    private readonly Task producer;

    public BatchPipeline(
        PreparedImages images, IReadOnlyList<int> order, IReadOnlyList<int> labels, int batchSize, Augmenter? augmenter,
        ulong augmentSeed, int parallelism, CancellationToken cancellationToken)
    {
        BatchCount = (order.Count + batchSize - 1) / batchSize;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = stop.Token;
        producer = Task.Factory.StartNew(() =>
        {
            try
            {
                int size = images.InputSizePixels;
                int plane = 3 * size * size;
                for (int start = 0; start < order.Count; start += batchSize)
                {
                    token.ThrowIfCancellationRequested();
                    int count = Math.Min(batchSize, order.Count - start);
                    var inputs = new float[count * plane];
                    var batchLabels = new long[count];
                    var items = new int[count];
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = token }, j =>
                    {
                        int item = order[start + j];
                        RgbaImage image = images.Get(item);
                        if (augmenter != null)
                        {
                            image = augmenter.Augment(image, Augmenter.SeedFor(augmentSeed, start + j));
                        }

                        ResNet18Variant.WriteInput(image.Pixels, size, size, image.Stride, RgbaImage.Channels, inputs.AsSpan(j * plane, plane));
                        batchLabels[j] = labels[item];
                        items[j] = item;
                    });
                    queue.Add(new PreparedBatch(inputs, batchLabels, items, count), token);
                }
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int BatchCount { get; }

    /// <summary>The batches in order; rethrows a failure of the producer.</summary>
    public IEnumerable<PreparedBatch> Batches()
    {
        foreach (PreparedBatch batch in queue.GetConsumingEnumerable())
        {
            yield return batch;
        }

        if (producer.IsFaulted || producer.IsCanceled)
        {
            producer.GetAwaiter().GetResult();
        }

        producer.Wait();
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            while (queue.TryTake(out _))
            {
            }

            producer.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // the producer was cancelled or failed; Batches() already surfaced a failure that mattered
        }

        stop.Dispose();
        queue.Dispose();
    }
}
