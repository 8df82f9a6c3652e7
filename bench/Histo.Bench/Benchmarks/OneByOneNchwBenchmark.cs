using System.Diagnostics;
using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>nchw_1x1_*</c>: what running the three 1 x 1 shortcut convolutions in NCHW costs
/// (<see cref="ResNet18Variant.OneByOneConvolutionInNchw"/>), against the old path with every convolution
/// channels-last, measured in the same run (interleaved repetition by repetition, 1 warm-up, median). The old path is
/// rebuilt here from the network's layers; it computes wrong features on VMs whose CPUID cache leaf 0x8000001D reads
/// zero (oneDNN 3.7.1's channels-last <c>brgconv_1x1</c>), and each inference row's notes give its difference from the
/// NCHW fp32 network on this machine. Rows: the batch-norm-folded copy (<see cref="FusedResNet18"/>) fp32 and bf16,
/// Histo's path and NCHW throughout (<c>_nchw_throughout</c>), each against the old path; and one fine-tuning step
/// (forward, cross-entropy, backward, SGD) of the plain network in train mode. Batch 16, 224 px and 64 px
/// (<c>_64px</c>), 2 threads. A ratio below 1 is the fix's cost.
/// </summary>
public sealed class OneByOneNchwBenchmark : IBenchmark
{
    private const string OldPath = "all channels-last (old path; wrong on VMs with an empty CPUID leaf 0x8000001D)";

    /// <inheritdoc />
    public string Name => "nchw_1x1";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        torch.set_num_threads(2);
        int reps = context.Quick ? 3 : 7;
        const int batch = 16;
        using ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 2);
        network.eval();
        foreach ((int size, string suffix) in new[] { (224, ""), (64, "_64px") })
        {
            using Tensor x = tensor(InferenceInputs.Random(batch, size), [batch, 3, size, size]);
            foreach ((ScalarType type, string typeName) in new[] { (ScalarType.Float32, "fp32"), (ScalarType.BFloat16, "bf16") })
            {
                using FusedResNet18 fused = FusedResNet18.Create(network, type);
                using FusedResNet18 nchw = FusedResNet18.Create(network, type, channelsLast: false);
                (double oldError, double fixError) = Errors(network, fused, x);
                var variants = new (string Name, Action Run)[]
                {
                    ("old", () => { using DisposeScope scope = NewDisposeScope(); using var inference = inference_mode(); OldLogits(fused, x); }),
                    ("fix", () => { using DisposeScope scope = NewDisposeScope(); fused.Logits(x); }),
                    ("nchw", () => { using DisposeScope scope = NewDisposeScope(); nchw.Logits(x); }),
                };
                double[] seconds = Interleaved(variants.Select(v => v.Run).ToArray(), reps);
                string notes = string.Create(CultureInfo.InvariantCulture,
                    $"fused {typeName}, batch {batch}, {size} px, 2 threads, median of {reps}; pooled features vs the NCHW fp32 network on this machine (max, relative): old path {oldError:0.0e0}, Histo's {fixError:0.0e0}");
                string baseline = $"fused {typeName} {OldPath}";
                yield return new BenchResult($"{Name}_fused_{typeName}{suffix}", batch / seconds[1], batch / seconds[0], "img/s", baseline,
                    Notes: "Histo: 1x1 convolutions NCHW, the rest channels-last; " + notes);
                yield return new BenchResult($"{Name}_fused_{typeName}_nchw_throughout{suffix}", batch / seconds[2], batch / seconds[0], "img/s", baseline,
                    Notes: "NCHW throughout; " + notes);
            }

            using var fix = new TrainingStep(network, oldPath: false, batch, size);
            using var old = new TrainingStep(network, oldPath: true, batch, size);
            double[] train = Interleaved([() => old.Run(), () => fix.Run()], reps);
            yield return new BenchResult($"{Name}_train_step{suffix}", batch / train[1], batch / train[0], "img/s", "training step " + OldPath,
                Notes: string.Create(CultureInfo.InvariantCulture,
                    $"Histo: 1x1 convolutions NCHW, the rest channels-last; fine-tuning step (SGD Nesterov, cross-entropy), ResNet18 [2,2,2,3] + 2-class head, fp32, train mode, batch {batch}, {size} px, 2 threads, median of {reps}"));
        }
    }

    /// <summary>Median seconds of each action, run in turn once per repetition after one warm-up round.</summary>
    private static double[] Interleaved(Action[] actions, int reps)
    {
        var times = actions.Select(_ => new List<double>()).ToArray();
        for (int rep = -1; rep < reps; rep++)
        {
            for (int i = 0; i < actions.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                actions[i]();
                if (rep >= 0)
                {
                    times[i].Add(clock.Elapsed.TotalSeconds);
                }
            }
        }

        return [.. times.Select(t => t.Order().ElementAt(t.Count / 2))];
    }

    /// <summary>
    /// Largest |features - NCHW fp32 features| relative to the largest |NCHW fp32 feature|, of the old path and of
    /// Histo's fused path.
    /// </summary>
    private static (double Old, double Fix) Errors(ResNet18Variant network, FusedResNet18 fused, Tensor x)
    {
        using DisposeScope scope = NewDisposeScope();
        using var inference = inference_mode();
        network.ChannelsLast = false;
        Tensor reference = network.Features(x);
        network.ChannelsLast = true;
        double scale = reference.abs().max().item<float>();
        double Error(Tensor features) => (features.to_type(ScalarType.Float32) - reference).abs().max().item<float>() / scale;
        return (Error(OldPool(fused, x)), Error(fused.Features(x)));
    }

    /// <summary>The fused forward as it was before the fix: input and every convolution channels-last.</summary>
    private static Tensor OldPool(FusedResNet18 fused, Tensor input)
    {
        Tensor x = ResNet18Variant.ToChannelsLast(input.to_type(fused.ElementType));
        x = nn.functional.max_pool2d(fused.Stem.Call(x).relu_(), [3, 3], [2, 2], [1, 1]);
        foreach (FusedResNet18.FusedBlock block in fused.Blocks)
        {
            Tensor main = block.Conv2.Call(block.Conv1.Call(x).relu_());
            x = main.add_(block.Shortcut is null ? x : block.Shortcut.Call(x)).relu_();
        }

        return x.mean([2, 3]);
    }

    private static Tensor OldLogits(FusedResNet18 fused, Tensor input) =>
        nn.functional.linear(OldPool(fused, input), fused.HeadWeight!, fused.HeadBias).to_type(ScalarType.Float32);

    /// <summary>A copy of the network in train mode with its optimizer and a fixed batch; the old path or Histo's forward.</summary>
    private sealed class TrainingStep : IDisposable
    {
        private readonly ResNet18Variant _network;
        private readonly bool _oldPath;
        private readonly optim.Optimizer _optimizer;
        private readonly Tensor _input;
        private readonly Tensor _labels;

        public TrainingStep(ResNet18Variant reference, bool oldPath, int batch, int size)
        {
            _network = new ResNet18Variant(reference.ClassCount);
            _network.load_state_dict(reference.state_dict());
            _network.train();
            _oldPath = oldPath;
            _optimizer = optim.SGD(_network.parameters(), 0.001, momentum: 0.9, nesterov: true, weight_decay: 1e-4);
            _input = tensor(InferenceInputs.Random(batch, size), [batch, 3, size, size]);
            _labels = arange(batch, dtype: ScalarType.Int64) % reference.ClassCount;
        }

        public void Run()
        {
            using DisposeScope scope = NewDisposeScope();
            _optimizer.zero_grad();
            Tensor logits = _oldPath ? OldForward(_network, _input) : _network.call(_input);
            Tensor loss = nn.functional.cross_entropy(logits, _labels);
            loss.backward();
            _optimizer.step();
        }

        /// <summary><see cref="ResNet18Variant.forward"/> as it was before the fix: every convolution channels-last.</summary>
        private static Tensor OldForward(ResNet18Variant network, Tensor input)
        {
            Tensor x = ResNet18Variant.ToChannelsLast(input);
            x = nn.functional.max_pool2d(network.StemBatchNorm.call(network.StemConv.call(x)).relu_(), [3, 3], [2, 2], [1, 1]);
            foreach (ResNetBasicBlock block in network.Blocks)
            {
                Tensor main = block.BatchNorm2.call(block.Conv2.call(block.BatchNorm1.call(block.Conv1.call(x)).relu_()));
                Tensor shortcut = block.ShortcutConv is null || block.ShortcutBatchNorm is null ? x : block.ShortcutBatchNorm.call(block.ShortcutConv.call(x));
                x = main.add_(shortcut).relu_();
            }

            Tensor features = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1);
            return network.Head!.call(nn.functional.dropout(features, 0.5, training: true));
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            _input.Dispose();
            _labels.Dispose();
            _network.Dispose();
        }
    }
}
