using System.Diagnostics;
using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>train_vs_pytorch</c>: images/s of one fine-tuning step (forward, cross-entropy, backward, SGD momentum 0.9
/// Nesterov, weight decay 1e-4) of Histo's ResNet18 in TorchSharp against the same network and weights in
/// python3-torch, 2 threads, fp32, train mode. Main row 224 px batch 16; <c>_64px</c> / <c>_64px_b64</c> at 64 px.
/// Histo runs channels-last (<see cref="ResNet18Variant.ChannelsLast"/>, its default); the NCHW layout is measured
/// alongside (<c>train_nchw_vs_pytorch*</c>). Every side runs one step per repetition in turn (1 warm-up, median).
/// </summary>
public sealed class TrainBenchmark : IBenchmark
{
    private static readonly (int SizePixels, int Batch, string Suffix)[] Configurations =
        [(224, 16, ""), (64, 16, "_64px"), (64, 64, "_64px_b64")];

    /// <inheritdoc />
    public string Name => "train_vs_pytorch";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        torch.set_num_threads(2);
        int reps = context.Quick ? 3 : 5;
        using var python = new PythonTorchServer(context, threads: 2);
        using ResNet18Variant reference = ResNet18OnnxImporter.Load(classCount: 2);
        python.LoadWeights(reference, context.CacheDir);
        string torchName = $"python3-torch {python.Version} fp32";
        foreach ((int size, int batch, string suffix) in Configurations)
        {
            using var channelsLast = new Trainer(reference, channelsLast: true, batch, size);
            using var nchw = new Trainer(reference, channelsLast: false, batch, size);
            var histo = new List<double>();
            var histoNchw = new List<double>();
            var torchTimes = new List<double>();
            for (int rep = -1; rep < reps; rep++)
            {
                double h = channelsLast.Step();
                double p = python.Train(size, batch);
                double n = nchw.Step();
                if (rep >= 0)
                {
                    histo.Add(h);
                    torchTimes.Add(p);
                    histoNchw.Add(n);
                }
            }

            string conditions = string.Create(CultureInfo.InvariantCulture, $"fine-tuning step (SGD Nesterov, cross-entropy), ResNet18 [2,2,2,3] + 2-class head, fp32, batch {batch}, {size} px, 2 threads, median of {reps}");
            double torchIps = batch / Median(torchTimes);
            yield return new BenchResult("train_vs_pytorch" + suffix, batch / Median(histo), torchIps, "img/s", torchName,
                Notes: "Histo TorchSharp channels-last; " + conditions);
            yield return new BenchResult("train_nchw_vs_pytorch" + suffix, batch / Median(histoNchw), torchIps, "img/s", torchName,
                Notes: "Histo TorchSharp NCHW; " + conditions);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>A copy of the network in train mode with its optimizer and a fixed random batch.</summary>
    private sealed class Trainer : IDisposable
    {
        private readonly ResNet18Variant _network;
        private readonly optim.Optimizer _optimizer;
        private readonly Tensor _input;
        private readonly Tensor _labels;

        public Trainer(ResNet18Variant reference, bool channelsLast, int batch, int size)
        {
            _network = new ResNet18Variant(reference.ClassCount) { ChannelsLast = channelsLast };
            _network.load_state_dict(reference.state_dict());
            _network.train();
            _optimizer = optim.SGD(_network.parameters(), 0.001, momentum: 0.9, nesterov: true, weight_decay: 1e-4);
            _input = tensor(InferenceInputs.Random(batch, size), [batch, 3, size, size]);
            _labels = arange(batch, dtype: ScalarType.Int64) % reference.ClassCount;
        }

        public double Step()
        {
            var sw = Stopwatch.StartNew();
            using DisposeScope scope = NewDisposeScope();
            _optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(_network.call(_input), _labels);
            loss.backward();
            _optimizer.step();
            return sw.Elapsed.TotalSeconds;
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
