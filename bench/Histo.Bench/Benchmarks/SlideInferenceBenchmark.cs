using Histo.Bench.Baselines;
using Histo.Imaging;
using Histo.Inference;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>slide_inference</c>: whole-slide inference throughput (patches/s, tissue detection included) of
/// <see cref="SlideInference"/>, which reads the next batch on other threads while the network computes, against the
/// plain sequential loop over the same grid (read a batch, then classify it). Both use the same network: the ImageNet
/// ResNet18 in ONNX Runtime (2 intra-op threads), 224-px patches at 0.5 µm/px on CMU-1-Small-Region, batch 16; the
/// "probabilities" are a softmax over four of its features (the cost is the network's, which is what is measured).
/// </summary>
public sealed class SlideInferenceBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "slide_inference";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string slidePath = Path.Combine(context.SharedData, "slides", "cmu-1-small-region.svs");
        using var classifier = new OnnxClassifier();
        var inference = new SlideInference(classifier, new SlideInferenceOptions { BatchSize = 16, ReaderThreads = 1 });
        int patches = 0;
        int reps = context.Quick ? 1 : 3;
        double pipelined = BenchContext.MedianSeconds(() => patches = inference.Run(slidePath).Patches.Count, warmup: 1, repetitions: reps);
        int sequentialPatches = 0;
        double sequential = BenchContext.MedianSeconds(() => sequentialPatches = Sequential(classifier, slidePath), warmup: 0, repetitions: reps);
        if (sequentialPatches != patches)
        {
            throw new InvalidOperationException($"the two loops classified {patches} and {sequentialPatches} patches");
        }

        yield return new BenchResult(Name, patches / pipelined, sequentialPatches / sequential, "patches/s", "sequential read-then-classify loop",
            Notes: $"{patches} patches of 224 px at 0.5 µm/px, batch 16, ResNet18 in ONNX Runtime (2 threads), 1 reader thread");
    }

    private static int Sequential(IPatchClassifier classifier, string slidePath)
    {
        using var slide = Slide.Open(slidePath);
        var tissue = new TissueDetector().Detect(slide);
        var grid = PatchGrid.ForSlide(slide, Resolution.Mpp(0.5), 224, null, tissue.Mask, 0.05).ToList();
        int done = 0;
        for (int start = 0; start < grid.Count; start += 16)
        {
            var batch = grid.Skip(start).Take(16).Select(p => PatchReader.Read(slide, p, 224)).ToList();
            done += classifier.Predict(batch).Length;
        }

        return done;
    }

    /// <summary>The ONNX Runtime ResNet18 behind <see cref="IPatchClassifier"/>: BGR minus the means, softmax over 4 of the 512 features.</summary>
    private sealed class OnnxClassifier : IPatchClassifier
    {
        private readonly OnnxRuntimeBaseline _network = new(intraOpThreads: 2);

        public ModelCard Card { get; } = new()
        {
            Classes = ["Normal", "Benign", "InSitu", "Invasive"],
            BachCodes = [0, 1, 2, 3],
            PatchSizePixels = 224,
            InputSizePixels = 224,
            Mpp = 0.5,
        };

        public float[][] Predict(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default)
        {
            const int size = 224, plane = size * size;
            var input = new float[patches.Count * 3 * plane];
            for (int i = 0; i < patches.Count; i++)
            {
                var image = patches[i].Width == size ? patches[i] : ImageIO.Resize(patches[i], size, size);
                var pixels = image.Pixels;
                int offset = i * 3 * plane;
                for (int j = 0; j < plane; j++)
                {
                    input[offset + j] = pixels[j * 4 + 2] - 103.06f;
                    input[offset + plane + j] = pixels[j * 4 + 1] - 115.90f;
                    input[offset + 2 * plane + j] = pixels[j * 4] - 123.15f;
                }
            }

            float[] features = _network.Features(input, patches.Count, size);
            var rows = new float[patches.Count][];
            for (int i = 0; i < patches.Count; i++)
            {
                var logits = features.AsSpan(i * OnnxRuntimeBaseline.FeatureLength, 4).ToArray();
                float max = logits.Max();
                var e = logits.Select(v => MathF.Exp(v - max)).ToArray();
                float sum = e.Sum();
                rows[i] = e.Select(v => v / sum).ToArray();
            }

            return rows;
        }

        public void Dispose() => _network.Dispose();
    }
}
