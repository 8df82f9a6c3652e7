using Histo.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Histo.Learning.Training;

/// <summary>
/// One optimisation step of the training recipe on a batch: forward (fp32, or bf16 mixed precision on a bfloat16 copy
/// of the network with fp32 master weights), cross-entropy (class-weighted when weights are given), backward,
/// optimiser step. <c>histo train</c> and the training benchmark run exactly this.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly ResNet18Variant _network;
    private readonly OptimizerHelper _optimizer;
    private readonly MixedPrecision? _bf16;
    private readonly Tensor? _classWeights;

    /// <summary>Steps <paramref name="optimizer"/> over <paramref name="network"/> (neither owned).</summary>
    public TrainingStep(ResNet18Variant network, OptimizerHelper optimizer, bool mixedPrecision, Tensor? classWeights)
    {
        _network = network;
        _optimizer = optimizer;
        _classWeights = classWeights;
        _bf16 = mixedPrecision ? new MixedPrecision(network) : null;
    }

    /// <summary>Runs the step on <paramref name="input"/> <c>[N, 3, S, S]</c> with labels <paramref name="target"/>; returns the batch's mean loss.</summary>
    public float Run(Tensor input, Tensor target)
    {
        _optimizer.zero_grad();
        Tensor logits = _bf16 != null ? _bf16.Forward(input) : _network.call(input);
        Tensor loss = nn.functional.cross_entropy(logits, target, weight: _classWeights);
        loss.backward();
        _bf16?.CopyBack();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>
    /// Logits (fp32) of <paramref name="input"/> in the arithmetic the step trains with: the bf16 copy (taking the
    /// master's current weights) under mixed precision, else the network itself. For validation: call it under
    /// <c>no_grad</c> with the network in eval mode.
    /// </summary>
    public Tensor Logits(Tensor input) => _bf16 != null ? _bf16.Forward(input) : _network.call(input);

    /// <inheritdoc />
    public void Dispose() => _bf16?.Dispose();
}
