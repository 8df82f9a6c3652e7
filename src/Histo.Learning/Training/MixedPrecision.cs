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
    private readonly ResNet18Variant master;
    private readonly ResNet18Variant work;
    private readonly List<Parameter> masterParameters;
    private readonly List<Parameter> workParameters;
    private readonly List<Tensor> masterBuffers;
    private readonly List<Tensor> workBuffers;
    private readonly List<(nn.Module Master, nn.Module Work)> modulePairs;

    public MixedPrecision(ResNet18Variant master)
    {
        this.master = master;
        work = new ResNet18Variant(master.ClassCount, master.DropoutProbability) { ChannelsLast = master.ChannelsLast };
        work.to(ScalarType.BFloat16);
        masterParameters = [.. master.parameters()];
        workParameters = [.. work.parameters()];
        masterBuffers = [.. master.buffers()];
        workBuffers = [.. work.buffers()];
        modulePairs = [.. master.modules().Prepend(master).Zip(work.modules().Prepend(work))];
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
            for (int i = 0; i < masterParameters.Count; i++)
            {
                workParameters[i].copy_(masterParameters[i]);
                workParameters[i].requires_grad = masterParameters[i].requires_grad;
            }

            for (int i = 0; i < masterBuffers.Count; i++)
            {
                workBuffers[i].copy_(masterBuffers[i]);
            }
        }

        foreach (var (from, to) in master.modules().Prepend(master).Zip(work.modules().Prepend(work)))
        {
            to.train(from.training);
        }

        work.zero_grad();

        return work.call(input.to(ScalarType.BFloat16)).to(ScalarType.Float32);
    }

    /// <summary>After <c>loss.backward()</c>: hands the gradients and the batch-norm statistics to the master.</summary>
    public void CopyBack()
    {
        using (no_grad())
        {
            for (int i = 0; i < masterParameters.Count; i++)
            {
                masterParameters[i].grad = workParameters[i].grad is { } g ? g.to(ScalarType.Float32) : null;
            }

            // Only modules that trained changed their statistics; copying the others back would round frozen fp32
            // statistics to bf16 on every step.
            foreach (var (from, to) in modulePairs)
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

    public void Dispose() => work.Dispose();
}
