using System.Diagnostics;
using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Learning.Models;
using Histo.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>train_recipe_vs_pytorch</c>: images/s of one step of the BACH training recipe as <c>histo train</c> runs it
/// with its defaults for BACH crops (ResNet18 [2,2,2,3] + dropout/linear 4-class head,
/// <see cref="TrainingOptions.DefaultCropInputSize"/> px, stem + <see cref="TrainingOptions.DefaultFrozenStagesForCrops"/>
/// stages frozen with their batch norms in eval mode, batch <see cref="TrainingOptions.DefaultBatchSize"/>, AdamW lr 3e-4 weight decay 1e-4, class-weighted
/// cross-entropy, train mode, 2 threads) against the same network and weights in python3-torch running the same recipe. Precisions: fp32 on both sides; bf16 mixed (Histo's <see cref="MixedPrecision"/>,
/// fp32 master weights) against <c>torch.autocast("cpu", torch.bfloat16)</c>, which is what a PyTorch user would
/// write. bf16 rows run only where the CPU has AVX512-BF16 (elsewhere both sides emulate it). Every side runs one step
/// per repetition in turn (1 warm-up, median), so machine noise hits them alike.
/// </summary>
public sealed class TrainRecipeBenchmark : IBenchmark
{
    private const int SizePixels = TrainingOptions.DefaultCropInputSize;
    private const int FrozenStages = TrainingOptions.DefaultFrozenStagesForCrops;
    private const int Batch = TrainingOptions.DefaultBatchSize;
    private const int Classes = 4;

    /// <inheritdoc />
    public string Name => "train_recipe_vs_pytorch";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        torch.set_num_threads(2);
        int reps = context.Quick ? 3 : 7;
        using var python = new PythonTorchServer(context, threads: 2);
        using ResNet18Variant reference = ResNet18OnnxImporter.Load(classCount: Classes);
        python.LoadWeights(reference, context.CacheDir);
        var precisions = new List<string> { "fp32" };
        if (TrainingHardware.HasNativeBFloat16)
        {
            precisions.Add("bf16");
        }

        foreach (string precision in precisions)
        {
            using var histo = new RecipeStep(reference, precision == "bf16");
            var histoTimes = new List<double>();
            var torchTimes = new List<double>();
            for (int rep = -1; rep < reps; rep++)
            {
                double h = histo.Step();
                double p = python.Recipe(precision, SizePixels, Batch, FrozenStages);
                if (rep >= 0)
                {
                    histoTimes.Add(h);
                    torchTimes.Add(p);
                }
            }

            string conditions = string.Create(CultureInfo.InvariantCulture,
                $"BACH recipe step: AdamW, class-weighted cross-entropy, ResNet18 [2,2,2,3] + 4-class head, stem + {FrozenStages} stages frozen, {precision}{(precision == "bf16" ? " mixed (Histo: bf16 copy, fp32 master; torch: autocast)" : "")}, batch {Batch}, {SizePixels} px, 2 threads, median of {reps}");
            yield return new BenchResult($"train_recipe_{precision}_vs_pytorch", Batch / Median(histoTimes), Batch / Median(torchTimes), "img/s",
                $"python3-torch {python.Version} {precision}", Notes: "Histo channels-last (as histo train); " + conditions);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>A copy of the network set up as <c>histo train</c> sets it up, stepping with its <see cref="TrainingStep"/>.</summary>
    private sealed class RecipeStep : IDisposable
    {
        private readonly ResNet18Variant _network;
        private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
        private readonly TrainingStep _step;
        private readonly Tensor _input;
        private readonly Tensor _labels;
        private readonly Tensor _classWeights;

        public RecipeStep(ResNet18Variant reference, bool mixed)
        {
            _network = new ResNet18Variant(reference.ClassCount);
            _network.load_state_dict(reference.state_dict());
            EngineSelfCheck.PrepareForTraining(_network);
            _optimizer = optim.AdamW(_network.parameters(), 3e-4, weight_decay: 1e-4);
            _classWeights = linspace(0.8, 1.2, reference.ClassCount);
            _step = new TrainingStep(_network, _optimizer, mixed, _classWeights);
            // as TrainingSession sets up each epoch of a crop run
            var (fixedParameters, fixedNorms) = _network.TrunkModules(FrozenStages);
            foreach (var parameter in fixedParameters)
            {
                parameter.requires_grad = false;
            }

            _network.train();
            foreach (var norm in fixedNorms)
            {
                norm.eval();
            }
            _input = tensor(InferenceInputs.Random(Batch, SizePixels), [Batch, 3, SizePixels, SizePixels]);
            _labels = arange(Batch, dtype: ScalarType.Int64) % reference.ClassCount;
        }

        public double Step()
        {
            var sw = Stopwatch.StartNew();
            using DisposeScope scope = NewDisposeScope();
            _step.Run(_input, _labels);
            return sw.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            _step.Dispose();
            _optimizer.Dispose();
            _input.Dispose();
            _labels.Dispose();
            _classWeights.Dispose();
            _network.Dispose();
        }
    }
}
