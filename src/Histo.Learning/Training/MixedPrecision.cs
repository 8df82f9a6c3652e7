using System.Runtime.Intrinsics.X86;
using Histo.Learning.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Histo.Learning.Training;

/// <summary>
/// bf16 mixed-precision training of a <see cref="ResNet18Variant"/>: a bfloat16 copy of the network runs the forward
/// and backward passes; before each step it takes the fp32 master weights and batch-norm statistics, after it the
/// master receives the gradients (cast to fp32) and the updated statistics. The optimiser steps on the master, so
/// weights, optimiser state and checkpoints stay fp32. TorchSharp 0.107 has no autocast; this is the manual form of
/// it for a network whose every layer oneDNN runs in bf16 (convolutions, batch norm, pooling, linear).
/// </summary>
internal sealed class MixedPrecision : IDisposable
{
    private readonly ResNet18Variant _master;
    private readonly ResNet18Variant _work;
    private readonly List<Parameter> _masterParameters;
    private readonly List<Parameter> _workParameters;
    private readonly List<Tensor> _masterBuffers;
    private readonly List<Tensor> _workBuffers;
    private readonly List<(nn.Module Master, nn.Module Work)> _modulePairs;

    public MixedPrecision(ResNet18Variant master)
    {
        _master = master;
        _work = new ResNet18Variant(master.ClassCount, master.DropoutProbability) { ChannelsLast = master.ChannelsLast };
        _work.to(ScalarType.BFloat16);
        _masterParameters = [.. master.parameters()];
        _workParameters = [.. _work.parameters()];
        _masterBuffers = [.. master.buffers()];
        _workBuffers = [.. _work.buffers()];
        _modulePairs = [.. master.modules().Prepend(master).Zip(_work.modules().Prepend(_work))];
    }

    /// <summary>Whether this CPU has the AVX512-BF16 instructions (CPUID leaf 7 subleaf 1, EAX bit 5).</summary>
    public static bool CpuHasBFloat16()
    {
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7)
        {
            return false;
        }

        return (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
    }

    /// <summary>Logits (fp32) of <paramref name="input"/> computed by the bf16 copy, which takes the master's state first.</summary>
    public Tensor Forward(Tensor input)
    {
        using (no_grad())
        {
            for (int i = 0; i < _masterParameters.Count; i++)
            {
                _workParameters[i].copy_(_masterParameters[i]);
                _workParameters[i].requires_grad = _masterParameters[i].requires_grad;
            }

            for (int i = 0; i < _masterBuffers.Count; i++)
            {
                _workBuffers[i].copy_(_masterBuffers[i]);
            }
        }

        foreach (var (from, to) in _master.modules().Prepend(_master).Zip(_work.modules().Prepend(_work)))
        {
            to.train(from.training);
        }

        _work.DropoutGenerator = _master.DropoutGenerator;
        _work.zero_grad();

        return _work.call(input.to(ScalarType.BFloat16)).to(ScalarType.Float32);
    }

    /// <summary>After <c>loss.backward()</c>: hands the gradients and the batch-norm statistics to the master.</summary>
    public void CopyBack()
    {
        using (no_grad())
        {
            for (int i = 0; i < _masterParameters.Count; i++)
            {
                _masterParameters[i].grad = _workParameters[i].grad is { } g ? g.to(ScalarType.Float32) : null;
            }

            // Only modules that trained changed their statistics; copying the others back would round frozen fp32
            // statistics to bf16 on every step.
            foreach (var (from, to) in _modulePairs)
            {
                if (!from.training)
                {
                    continue;
                }

                foreach (var (masterBuffer, workBuffer) in from.buffers(recurse: false).Zip(to.buffers(recurse: false)))
                {
                    masterBuffer.copy_(workBuffer);
                }
            }
        }
    }

    public void Dispose() => _work.Dispose();
}
