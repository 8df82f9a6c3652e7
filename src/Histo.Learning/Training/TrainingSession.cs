using System.Diagnostics;
using System.Globalization;
using System.Text;
using Histo.Color;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.IO;
using Histo.Learning.Models;
using Histo.Models;
using Histo.Patches;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Learning.Training;

/// <summary>The network-training part of a run: folds and the final model, with checkpoints.</summary>
internal sealed class TrainingSession
{
    // Validation batches beyond 32 crops run no faster on the CPU but hold several GB more activations at 320 px.
    private const int ValidationBatchLimit = 32;

    private readonly TrainingOptions _options;
    private readonly Dataset _dataset;
    private readonly PreparedImages _images;
    private readonly int[] _foldOf;
    private readonly int[] _labels;
    private readonly int[] _viewLabels;
    private readonly bool _mixed;
    private readonly string? _initDirectory;
    private readonly string _checkpointDirectory;
    private readonly TrainingCheckpoint _state;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly Stopwatch _clock;
    private readonly CancellationToken _cancellationToken;
    private readonly double _plannedImages;
    private double _doneImages;

    public TrainingSession(TrainingOptions options, Dataset dataset, PreparedImages images, int[] foldOf, string? initDirectory, string checkpointDirectory,
        TrainingCheckpoint state, IProgress<TrainingProgress>? progress, Stopwatch clock, double elapsedBefore, bool mixed, CancellationToken cancellationToken)
    {
        _options = options;
        _mixed = mixed;
        _dataset = dataset;
        _images = images;
        _foldOf = foldOf;
        _initDirectory = initDirectory;
        _checkpointDirectory = checkpointDirectory;
        _state = state;
        _progress = progress;
        _clock = clock;
        _cancellationToken = cancellationToken;
        _labels = dataset.Items.Select(i => i.LabelIndex).ToArray();
        _viewLabels = Enumerable.Range(0, images.Count).Select(v => _labels[images.ItemOf(v)]).ToArray();
        var o = options;
        int n = images.Count;

        // Work in image passes (a validation image costs about a third of a training image).
        double perFoldEpoch = (n * (o.Folds - 1.0) / o.Folds) + (n / (double)o.Folds / 3);
        _plannedImages = (o.Folds * o.Epochs * perFoldEpoch) + (o.Final == FinalModelChoice.AllData ? o.Epochs * n : 0);
        _doneImages = Math.Min(_plannedImages, (state.History.Count(h => h.Fold != "final") * perFoldEpoch) + (state.History.Count(h => h.Fold == "final") * n));
        _startImages = _doneImages;
        ElapsedBefore = elapsedBefore;
    }

    private double ElapsedBefore { get; }

    /// <summary>The engine the network trained with in this process (after its self-check), or null before the first phase.</summary>
    public EngineUsage? Engine { get; private set; }

    private TrainingOptions Options => _options;

    public void RunFold(int fold)
    {
        int[] train = Enumerable.Range(0, _dataset.Items.Count).Where(i => _foldOf[i] != fold - 1).ToArray();
        int[] validation = Enumerable.Range(0, _dataset.Items.Count).Where(i => _foldOf[i] == fold - 1).ToArray();
        RunPhase(fold, train, validation, Options.Epochs);
        _state.Folds.Add(new FoldRecord
        {
            Fold = fold,
            TrainCount = train.Length,
            BestEpoch = _state.BestEpoch,
            BestBalancedAccuracy = _state.BestBalancedAccuracy,
            Items = validation,
            Predictions = _state.BestPredictions ?? [],
        });
        string oldWeights = _state.WeightsFile ?? "";
        string oldOptimizer = _state.OptimizerFile ?? "";
        _state.PhaseFold = fold + 1;
        _state.EpochsDone = 0;
        _state.WeightsFile = _state.OptimizerFile = null;
        _state.BestEpoch = 0;
        _state.BestBalancedAccuracy = -1;
        _state.BestPredictions = null;
        Save();
        DeleteCheckpointFile(oldWeights);
        DeleteCheckpointFile(oldOptimizer);
    }

    public string RunFinal(int epochs)
    {
        int[] all = Enumerable.Range(0, _dataset.Items.Count).ToArray();
        RunPhase(0, all, null, epochs);
        return Path.Combine(_checkpointDirectory, _state.WeightsFile!);
    }

    private void RunPhase(int fold, int[] train, int[]? validation, int epochs)
    {
        string phaseName = fold == 0 ? "final" : fold.ToString(CultureInfo.InvariantCulture);
        // Every random draw of torch comes from generators of this run's own, seeded from (seed, fold, epoch): torch's
        // global generator is shared with whatever else the process runs, so draws from it would not be reproducible.
        using ResNet18Variant network = CreateNetwork();
        if (_initDirectory == null)
        {
            network.InitialiseHead(PhaseSeed(fold, 0));
        }

        using var dropoutGenerator = new torch.Generator(unchecked((ulong)PhaseSeed(fold, 0)));
        network.DropoutGenerator = dropoutGenerator;
        network.to(TrainingDevice.Current);
        Engine = EngineSelfCheck.PrepareForTraining(network);
        int[] trainViews = _images.ViewsOf(train);
        var parameters = network.named_parameters().ToList();
        int frozenStages = Options.FrozenStages ?? 0; // resolved by the trainer
        var (fixedParameters, fixedNorms) = network.TrunkModules(frozenStages);
        var fixedSet = new HashSet<object>(frozenStages > 0 ? fixedParameters : [], ReferenceEqualityComparer.Instance);
        using var optimizer = CreateOptimizer(parameters.Select(p => p.parameter));
        if (_state.EpochsDone > 0 && _state.WeightsFile != null && _state.OptimizerFile != null)
        {
            network.load(Path.Combine(_checkpointDirectory, _state.WeightsFile), strict: true);
            optimizer.load_state_dict(Path.Combine(_checkpointDirectory, _state.OptimizerFile));
        }

        using Tensor? classWeights = Options.Balancing == ClassBalancing.LossWeights ? ClassWeights(trainViews) : null;
        using var step = new TrainingStep(network, optimizer, _mixed, classWeights);
        for (int epoch = _state.EpochsDone + 1; epoch <= epochs; epoch++)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var epochClock = Stopwatch.StartNew();
            dropoutGenerator.manual_seed(PhaseSeed(fold, epoch));
            bool frozen = epoch <= Options.FrozenBackboneEpochs;
            foreach (var (name, parameter) in parameters)
            {
                parameter.requires_grad = !fixedSet.Contains(parameter) && (!frozen || name.StartsWith("fc.", StringComparison.Ordinal));
            }

            int[] order = EpochOrder(trainViews, fold, epoch);
            var augmenter = Options.Augment ? new Augmenter() : null;
            double lossSum = 0;
            int seen = 0;
            double lr = 0;
            network.train();
            if (frozenStages > 0)
            {
                foreach (var norm in fixedNorms)
                {
                    norm.eval();
                }
            }

            using (var pipeline = new BatchPipeline(_images, order, _viewLabels, Options.BatchSize, augmenter, (ulong)PhaseSeed(fold, epoch), Options.Threads, _cancellationToken))
            {
                int batchIndex = 0;
                foreach (PreparedBatch batch in pipeline.Batches())
                {
                    if (batch.Count < 2)
                    {
                        continue; // batch norm cannot train on one image
                    }

                    lr = Options.LearningRateAt(epoch - 1 + ((double)batchIndex / pipeline.BatchCount), epochs);
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = lr;
                    }

                    using (DisposeScope scope = NewDisposeScope())
                    {
                        int size = _images.InputSizePixels;
                        Tensor input = tensor(batch.Inputs, [batch.Count, 3, size, size]).to(TrainingDevice.Current);
                        Tensor target = tensor(batch.Labels).to(TrainingDevice.Current);
                        lossSum += step.Run(input, target) * batch.Count;
                    }

                    seen += batch.Count;
                    batchIndex++;
                    _doneImages += batch.Count;
                    Report(TrainingStage.Training, fold, epoch, epochs, batchIndex, pipeline.BatchCount, seen / epochClock.Elapsed.TotalSeconds, lossSum / seen, null);
                }
            }

            double trainSeconds = epochClock.Elapsed.TotalSeconds;
            double trainLoss = lossSum / Math.Max(1, seen);
            double? valLoss = null, valBalanced = null, valF1 = null;
            if (validation != null)
            {
                List<float[]> predictions = Predict(network, step, validation, fold, epoch, epochs, trainLoss);
                var truth = validation.Select(i => _labels[i]).ToArray();
                var names = _dataset.Classes.Select(c => c.Name).ToArray();
                var metrics = ClassificationMetrics.Compute(names, truth, predictions);
                valBalanced = metrics.BalancedAccuracy;
                valF1 = metrics.MacroF1;
                valLoss = truth.Select((t, i) => -Math.Log(Math.Max(predictions[i][t], 1e-7))).Average();
                if (metrics.BalancedAccuracy > _state.BestBalancedAccuracy)
                {
                    _state.BestBalancedAccuracy = metrics.BalancedAccuracy;
                    _state.BestEpoch = epoch;
                    _state.BestPredictions = predictions;
                    if (Options.Final == FinalModelChoice.BestFold)
                    {
                        PatchClassifier.SaveWeights(network, Path.Combine(_checkpointDirectory, Trainer.BestWeightsFile(fold)));
                    }
                }
            }

            _state.History.Add(new HistoryRow(phaseName, epoch, trainLoss, valLoss, valBalanced, valF1, lr, seen / trainSeconds, epochClock.Elapsed.TotalSeconds));
            string oldWeights = _state.WeightsFile ?? "";
            string oldOptimizer = _state.OptimizerFile ?? "";
            _state.WeightsFile = $"{(fold == 0 ? "final" : "fold" + phaseName)}_epoch{epoch}.bin";
            _state.OptimizerFile = $"{(fold == 0 ? "final" : "fold" + phaseName)}_epoch{epoch}.optimizer.bin";
            PatchClassifier.SaveWeights(network, Path.Combine(_checkpointDirectory, _state.WeightsFile));
            AtomicFile.Write(Path.Combine(_checkpointDirectory, _state.OptimizerFile), stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            });
            _state.EpochsDone = epoch;
            Save();
            AtomicFile.WriteAllText(Path.Combine(Path.GetDirectoryName(_checkpointDirectory)!, TrainingFiles.HistoryFileName), TrainingFiles.HistoryCsv(_state.History));
            DeleteCheckpointFile(oldWeights);
            DeleteCheckpointFile(oldOptimizer);
            Report(TrainingStage.EpochDone, fold, epoch, epochs, 0, 0, seen / trainSeconds, trainLoss, valBalanced);
        }
    }

    /// <summary>
    /// Class probabilities of each validation image: the mean over its crops (one crop: the image), computed in the
    /// arithmetic the network trains in (<see cref="TrainingStep.Logits"/>: under bf16 mixed precision its bf16 copy,
    /// about twice as fast as fp32 at 320 px on AVX512-BF16).
    /// </summary>
    private List<float[]> Predict(ResNet18Variant network, TrainingStep step, int[] validation, int fold, int epoch, int epochs, double trainLoss)
    {
        int[] views = _images.ViewsOf(validation);
        var sums = new Dictionary<int, double[]>(validation.Length);
        network.eval();
        using var noGrad = no_grad();
        using var pipeline = new BatchPipeline(_images, views, _viewLabels, Math.Min(Options.BatchSize * 2, ValidationBatchLimit), null, 0, Options.Threads, _cancellationToken);
        int batchIndex = 0;
        foreach (PreparedBatch batch in pipeline.Batches())
        {
            using DisposeScope scope = NewDisposeScope();
            int size = _images.InputSizePixels;
            Tensor input = tensor(batch.Inputs, [batch.Count, 3, size, size]).to(TrainingDevice.Current);
            Tensor probabilities = nn.functional.softmax(step.Logits(input), 1).cpu();
            float[] flat = probabilities.data<float>().ToArray();
            int k = (int)probabilities.shape[1];
            for (int r = 0; r < batch.Count; r++)
            {
                int item = _images.ItemOf(batch.Items[r]);
                if (!sums.TryGetValue(item, out double[]? sum))
                {
                    sums[item] = sum = new double[k];
                }

                for (int c = 0; c < k; c++)
                {
                    sum[c] += flat[(r * k) + c];
                }
            }

            batchIndex++;
            _doneImages += batch.Count / 3.0;
            Report(TrainingStage.Validating, fold, epoch, epochs, batchIndex, pipeline.BatchCount, 0, trainLoss, null);
        }

        return validation.Select(item =>
        {
            double count = _images.ViewsOf(item).Count();
            return sums[item].Select(v => (float)(v / count)).ToArray();
        }).ToList();
    }

    private ResNet18Variant CreateNetwork()
    {
        int classes = _dataset.Classes.Count;
        if (_initDirectory == null)
        {
            return ResNet18OnnxImporter.Load(classCount: classes, dropoutProbability: Options.Dropout);
        }

        var network = new ResNet18Variant(classes, Options.Dropout);
        network.load(Path.Combine(_initDirectory, PatchClassifier.WeightsFileName), strict: true);
        return network;
    }

    private TorchSharp.Modules.OptimizerHelper CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters) => Options.Optimizer switch
    {
        OptimizerKind.AdamW => torch.optim.AdamW(parameters, Options.EffectiveLearningRate, weight_decay: Options.WeightDecay),
        _ => torch.optim.SGD(parameters, Options.EffectiveLearningRate, momentum: Options.Momentum, weight_decay: Options.WeightDecay, nesterov: true),
    };

    private Tensor ClassWeights(int[] trainViews)
    {
        int k = _dataset.Classes.Count;
        var counts = new double[k];
        foreach (int v in trainViews)
        {
            counts[_viewLabels[v]]++;
        }

        var weights = counts.Select(c => (float)(c > 0 ? trainViews.Length / (k * c) : 0)).ToArray();
        return tensor(weights).to(TrainingDevice.Current);
    }

    /// <summary>The seeded order of an epoch: a shuffle, or a class-balanced draw with replacement.</summary>
    private int[] EpochOrder(int[] train, int fold, int epoch)
    {
        var random = new SplitMix64((ulong)PhaseSeed(fold, epoch) ^ 0x5DEECE66DUL);
        if (Options.Balancing == ClassBalancing.Sampling)
        {
            var byClass = train.GroupBy(v => _viewLabels[v]).Select(g => g.ToArray()).ToArray();
            var drawn = new int[train.Length];
            for (int j = 0; j < drawn.Length; j++)
            {
                int[] pool = byClass[random.NextInt(byClass.Length)];
                drawn[j] = pool[random.NextInt(pool.Length)];
            }

            return drawn;
        }

        int[] order = (int[])train.Clone();
        for (int j = order.Length - 1; j > 0; j--)
        {
            int swap = random.NextInt(j + 1);
            (order[j], order[swap]) = (order[swap], order[j]);
        }

        return order;
    }

    private long PhaseSeed(int fold, int epoch) =>
        (long)(new SplitMix64(((ulong)(uint)Options.Seed << 32) ^ ((ulong)(uint)fold << 16) ^ (uint)epoch).Next() >> 2);

    private void Report(TrainingStage stage, int fold, int epoch, int epochs, int batch, int batchCount, double imagesPerSecond, double loss, double? val)
    {
        if (_progress == null)
        {
            return;
        }

        double seconds = _sessionClock.Elapsed.TotalSeconds;
        TimeSpan? eta = null;
        if (_doneImages > _startImages && seconds > 5)
        {
            // the throughput of this session so far, over the image passes still planned
            eta = TimeSpan.FromSeconds(Math.Max(0, (_plannedImages - _doneImages) * seconds / (_doneImages - _startImages)));
        }

        double? lastVal = val ?? _state.History.LastOrDefault()?.ValBalancedAccuracy;
        _progress.Report(new TrainingProgress(stage, fold, Options.Folds, epoch, epochs, batch, batchCount, imagesPerSecond, eta, loss, lastVal, Environment.WorkingSet));
    }

    private readonly double _startImages;
    private readonly Stopwatch _sessionClock = Stopwatch.StartNew();

    private void Save()
    {
        _state.ElapsedSeconds = ElapsedBefore + _clock.Elapsed.TotalSeconds;
        _state.Save(_checkpointDirectory);
    }

    private void DeleteCheckpointFile(string name)
    {
        if (name.Length > 0)
        {
            string path = Path.Combine(_checkpointDirectory, name);
            if (File.Exists(path) && name != _state.WeightsFile && name != _state.OptimizerFile)
            {
                File.Delete(path);
            }
        }
    }
}
