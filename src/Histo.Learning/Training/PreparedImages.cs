using Histo.Color;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.Imaging;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Histo.Patches;

namespace Histo.Learning.Training;

/// <summary>
/// How training cuts each image: square crops of <paramref name="SizePixels"/> in a sliding window moved by
/// <paramref name="StridePixels"/> (image pixels), the last crop aligned to the far edge (see
/// <see cref="ImageTiling.SlidingOrigins"/>) — the same crops image-level prediction averages over.
/// </summary>
internal sealed record CropPlan(int SizePixels, double StridePixels);

/// <summary>
/// The dataset's images as the network sees them before augmentation: decoded (border cuts padded by the dataset's
/// size policy), cut into crops when a <see cref="CropPlan"/> is given (each crop a <em>view</em>; without a plan an
/// image is one view), stain-normalised when asked, resized to the input size. The same steps as
/// <see cref="ImagePredictor"/> and <see cref="PatchClassifier.Preprocess"/>, so training and inference see the same
/// pixels. Kept in memory when they fit in <see cref="MaxCacheBytes"/>, recomputed on every use otherwise.
/// </summary>
internal sealed class PreparedImages
{
    /// <summary>Largest total size of cached images.</summary>
    public const long MaxCacheBytes = 4L << 30;

    private readonly Dataset _dataset;
    private readonly IStainNormalizer? _normalizer;
    private readonly CropPlan? _crops;
    private readonly int[] _firstView;
    private readonly int[] _itemOfView;
    private readonly RgbaImage?[]? _cache;

    public PreparedImages(Dataset dataset, int inputSizePixels, IStainNormalizer? normalizer, CropPlan? crops = null)
    {
        _dataset = dataset;
        _normalizer = normalizer;
        _crops = crops;
        InputSizePixels = inputSizePixels;
        _firstView = new int[dataset.Items.Count + 1];
        for (int i = 0; i < dataset.Items.Count; i++)
        {
            _firstView[i + 1] = _firstView[i] + ViewCount(dataset, dataset.Items[i], crops);
        }

        _itemOfView = new int[_firstView[^1]];
        for (int i = 0; i < dataset.Items.Count; i++)
        {
            Array.Fill(_itemOfView, i, _firstView[i], _firstView[i + 1] - _firstView[i]);
        }

        long bytes = (long)_itemOfView.Length * inputSizePixels * inputSizePixels * RgbaImage.Channels;
        _cache = bytes <= MaxCacheBytes ? new RgbaImage?[_itemOfView.Length] : null;
    }

    public int InputSizePixels { get; }

    /// <summary>Number of images of the dataset.</summary>
    public int ItemCount => _dataset.Items.Count;

    /// <summary>Number of views (crops) over all images.</summary>
    public int Count => _itemOfView.Length;

    /// <summary>The image a view was cut from.</summary>
    public int ItemOf(int view) => _itemOfView[view];

    /// <summary>The views of image <paramref name="item"/>, in the order image-level prediction cuts them.</summary>
    public IEnumerable<int> ViewsOf(int item) => Enumerable.Range(_firstView[item], _firstView[item + 1] - _firstView[item]);

    /// <summary>The views of several images, image after image.</summary>
    public int[] ViewsOf(IEnumerable<int> items) => [.. items.SelectMany(ViewsOf)];

    /// <summary>Crops per image under a plan (1 without one), from the sizes in the file headers.</summary>
    public static int ViewCount(Dataset dataset, DatasetItem item, CropPlan? crops)
    {
        if (crops == null)
        {
            return 1;
        }

        var (usualWidth, usualHeight) = dataset.UsualSizeOf(item);
        bool padded = dataset.IsSmallerThanUsual(item) && dataset.SizePolicy != SizePolicy.Skip;
        int width = padded ? usualWidth : item.WidthPixels;
        int height = padded ? usualHeight : item.HeightPixels;
        if (width < crops.SizePixels || height < crops.SizePixels)
        {
            return 1;
        }

        return ImageTiling.SlidingOrigins(width, crops.SizePixels, crops.StridePixels).Length
            * ImageTiling.SlidingOrigins(height, crops.SizePixels, crops.StridePixels).Length;
    }

    /// <summary>Decodes every image once (filling the cache, or just checking it decodes); fails on the first unreadable one.</summary>
    public void PrepareAll(int parallelism, Action<int> reportDone, CancellationToken cancellationToken)
    {
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        try
        {
            Parallel.For(0, ItemCount, options, i =>
            {
                List<RgbaImage> views = Load(i);
                if (_cache != null)
                {
                    for (int v = 0; v < views.Count; v++)
                    {
                        _cache[_firstView[i] + v] = views[v];
                    }
                }

                int n = Interlocked.Increment(ref done);
                if (n % 64 == 0 || n == ItemCount)
                {
                    reportDone(n);
                }
            });

            // full-size crops are garbage once resized: give their memory back before training starts
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is HistoException) is HistoException first)
        {
            throw new HistoException($"unreadable training image: {first.Message}", first);
        }
    }

    /// <summary>The prepared view <paramref name="view"/> (shared when cached: do not modify).</summary>
    public RgbaImage Get(int view) => _cache?[view] ?? Load(_itemOfView[view])[view - _firstView[_itemOfView[view]]];

    private List<RgbaImage> Load(int item)
    {
        RgbaImage image = _dataset.LoadImage(_dataset.Items[item]);
        int expected = _firstView[item + 1] - _firstView[item];
        var views = new List<RgbaImage>(expected);
        if (_crops == null || image.Width < _crops.SizePixels || image.Height < _crops.SizePixels)
        {
            views.Add(Finish(_crops == null ? image : ImageIO.Resize(image, _crops.SizePixels, _crops.SizePixels)));
        }
        else
        {
            // Crops in the order of ImageTiling.Cut. Without stain normalisation each is resized straight from the
            // field: full-size copies (31 MB per BACH field, 9 GB over Part A) would be large-object-heap garbage
            // that the GC keeps committed through training.
            int side = _crops.SizePixels;
            foreach (int y in ImageTiling.SlidingOrigins(image.Height, side, _crops.StridePixels))
            {
                foreach (int x in ImageTiling.SlidingOrigins(image.Width, side, _crops.StridePixels))
                {
                    views.Add(_normalizer == null
                        ? ImageIO.Resize(image, x, y, side, side, InputSizePixels, InputSizePixels)
                        : Finish(image.Crop(x, y, side, side)));
                }
            }
        }

        if (views.Count != expected)
        {
            throw new HistoException($"{_dataset.Items[item].Path}: decoded as {image.Width} x {image.Height} px, which its header did not say");
        }

        return views;
    }

    private RgbaImage Finish(RgbaImage view)
    {
        if (_normalizer != null)
        {
            view = _normalizer.Normalize(view).Image;
        }

        return view.Width == InputSizePixels && view.Height == InputSizePixels ? view : ImageIO.Resize(view, InputSizePixels, InputSizePixels);
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
    private readonly System.Collections.Concurrent.BlockingCollection<PreparedBatch> _queue = new(boundedCapacity: 3);
    private readonly CancellationTokenSource _stop;
    private readonly Task _producer;

    public BatchPipeline(
        PreparedImages images, IReadOnlyList<int> order, IReadOnlyList<int> labels, int batchSize, Augmenter? augmenter,
        ulong augmentSeed, int parallelism, CancellationToken cancellationToken)
    {
        BatchCount = (order.Count + batchSize - 1) / batchSize;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = _stop.Token;
        _producer = Task.Factory.StartNew(() =>
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
                    _queue.Add(new PreparedBatch(inputs, batchLabels, items, count), token);
                }
            }
            finally
            {
                _queue.CompleteAdding();
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int BatchCount { get; }

    /// <summary>The batches in order; rethrows a failure of the producer.</summary>
    public IEnumerable<PreparedBatch> Batches()
    {
        foreach (PreparedBatch batch in _queue.GetConsumingEnumerable())
        {
            yield return batch;
        }

        if (_producer.IsFaulted || _producer.IsCanceled)
        {
            _producer.GetAwaiter().GetResult();
        }

        _producer.Wait();
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            while (_queue.TryTake(out _))
            {
            }

            _producer.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // the producer was cancelled or failed; Batches() already surfaced a failure that mattered
        }

        _stop.Dispose();
        _queue.Dispose();
    }
}
