using System.Diagnostics;
using System.Globalization;
using Histo.Imaging;
using Histo.Inference;
using Histo.Learning.Models;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>pipeline_vs_model</c>: end-to-end whole-slide throughput (patches/s) of <see cref="SlideInference"/> as
/// <c>histo slide</c> runs it (open the slide, detect tissue, build the grid, read + decode + preprocess patches on 2
/// reader threads one batch ahead of the model, classify, build the maps) against the model alone on the same
/// patches: the very patches the pipeline classified, read into memory beforehand, then
/// <see cref="PatchClassifier.Predict"/> batch by batch at the same batch size (16). Ratio = pipeline / model-only;
/// the goal is ≥ 0.9x (reading hidden behind compute). The model is the pretrained ImageNet ResNet18 with an untrained
/// 4-class head (the cost is the network's). Two cases: 64-px patches at 4 µm/px on the 50,000 x 50,000 generated
/// slide (<c>pipeline_vs_model</c>) and 224-px patches at 0.5 µm/px on CMU-1-Small-Region
/// (<c>pipeline_vs_model_224</c>). Torch and the readers get 2 threads each, as the CLI gives them on this machine.
/// Pipeline and model-only runs are interleaved repetition by repetition (one warm-up each); medians are reported.
/// </summary>
public sealed class SlideInferenceBenchmark : IBenchmark
{
    private const int BatchSize = 16;
    private const int Threads = 2;

    /// <inheritdoc />
    public string Name => "pipeline_vs_model";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        TorchSharp.torch.set_num_threads(Threads);
        int reps = context.Quick ? 1 : 3;
        yield return Measure("pipeline_vs_model", LargeSlide.Ensure(context), Card(64, 4.0), reps, "the 50000x50000 generated slide");
        yield return Measure("pipeline_vs_model_224", Path.Combine(context.SharedData, "slides", "cmu-1-small-region.svs"), Card(224, 0.5), reps,
            "CMU-1-Small-Region");
    }

    /// <summary>The benchmark model's card: BACH classes, square patches of <paramref name="sizePixels"/> at <paramref name="mpp"/>.</summary>
    public static ModelCard Card(int sizePixels, double mpp) => new()
    {
        Classes = ["Normal", "Benign", "InSitu", "Invasive"],
        BachCodes = [0, 1, 2, 3],
        PatchSizePixels = sizePixels,
        InputSizePixels = sizePixels,
        Mpp = mpp,
        Terms = "benchmark model: pretrained ImageNet backbone, untrained head",
    };

    private static BenchResult Measure(string name, string slidePath, ModelCard card, int reps, string slideName)
    {
        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 4), card);
        var inference = new SlideInference(classifier, new SlideInferenceOptions
        {
            BatchSize = BatchSize,
            ReaderThreads = Threads,
            StridePixels = card.PatchSizePixels, // edge-to-edge patches, as the recorded figures were measured (the default overlaps them)
        });

        // Warm-up of the pipeline; its patches are the model-only run's input.
        var sw = Stopwatch.StartNew();
        var warm = inference.Run(slidePath);
        double warmSeconds = sw.Elapsed.TotalSeconds;
        var patches = ReadPatches(slidePath, warm.Patches, card.PatchSizePixels);
        int count = patches.Length;
        ModelOnly(classifier, patches);

        var pipelineTimes = new List<double>();
        var modelTimes = new List<double>();
        for (int rep = 0; rep < reps; rep++)
        {
            sw.Restart();
            int done = inference.Run(slidePath).Patches.Count;
            pipelineTimes.Add(sw.Elapsed.TotalSeconds);
            if (done != count)
            {
                throw new InvalidOperationException($"the pipeline classified {done} patches, then {count}");
            }

            sw.Restart();
            ModelOnly(classifier, patches);
            modelTimes.Add(sw.Elapsed.TotalSeconds);
        }

        double pipeline = Median(pipelineTimes), model = Median(modelTimes);
        string notes = string.Create(CultureInfo.InvariantCulture,
            $"{count} patches of {card.PatchSizePixels} px at {card.Mpp:0.##} µm/px on {slideName}, batch {BatchSize}, {Threads} torch + {Threads} reader threads; pipeline {pipeline:0.0} s (tissue detection included; warm-up {warmSeconds:0.0} s), model-only {model:0.0} s; median of {reps}, interleaved");
        return new BenchResult(name, count / pipeline, count / model, "patches/s", "PatchClassifier.Predict on the same patches pre-read", Notes: notes);
    }

    private static RgbaImage[] ReadPatches(string slidePath, IReadOnlyList<PatchPrediction> predictions, int sizePixels)
    {
        using var slide = Slide.Open(slidePath);
        var images = new RgbaImage[predictions.Count];
        Parallel.For(0, predictions.Count, new ParallelOptions { MaxDegreeOfParallelism = Threads }, i =>
        {
            var p = predictions[i];
            images[i] = PatchReader.Read(slide, new PatchPosition(0, 0, p.Level0X, p.Level0Y, p.Level0Size, p.TissueFraction), sizePixels);
        });
        return images;
    }

    private static void ModelOnly(PatchClassifier classifier, RgbaImage[] patches)
    {
        for (int start = 0; start < patches.Length; start += BatchSize)
        {
            var rows = classifier.Predict(new ArraySegment<RgbaImage>(patches, start, Math.Min(BatchSize, patches.Length - start)));
            if (rows.Length == 0)
            {
                throw new InvalidOperationException("the model returned no rows");
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
