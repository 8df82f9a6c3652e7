using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Histo.Learning.Models;
using static TorchSharp.torch;

namespace Histo.Bench.Baselines;

/// <summary>
/// bench/python/torch_bench.py in <c>--serve</c> mode: python3-torch kept running with the same network and weights
/// as Histo, so that a benchmark can interleave single runs of it with Histo's, repetition by repetition. Each call
/// blocks until Python answers; timed calls return Python's own measurement of the run.
/// </summary>
public sealed class PythonTorchServer : IDisposable
{
    private readonly Process _process;

    /// <summary>Starts python3-torch with <paramref name="threads"/> intra-op threads.</summary>
    public PythonTorchServer(BenchContext context, int threads)
    {
        var psi = new ProcessStartInfo(PythonBaseline.Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (string a in new[] { Path.Combine(PythonBaseline.ScriptDir(context), "torch_bench.py"), "--serve", "--threads", $"{threads}" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {PythonBaseline.Interpreter}");
        _process.StandardInput.AutoFlush = true;
        string hello = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("torch_bench.py --serve exited at start");
        string[] words = hello.Split(' ');
        Version = words.Length >= 3 && words[1] == "torch" ? words[2] : throw new InvalidOperationException($"torch_bench.py: {hello}");
    }

    /// <summary>torch.__version__ as the Debian package reports it.</summary>
    public string Version { get; }

    /// <summary>
    /// Loads <paramref name="network"/>'s parameters and buffers (written to <paramref name="cacheDir"/> as a float32
    /// blob and a JSON manifest) into Python's models, so both sides run the same weights.
    /// </summary>
    public void LoadWeights(ResNet18Variant network, string cacheDir)
    {
        ArgumentNullException.ThrowIfNull(network);
        string manifestPath = Path.Combine(cacheDir, "resnet18_weights.json");
        var entries = new List<object>();
        long offset = 0;
        using (var blob = new BinaryWriter(File.Create(Path.ChangeExtension(manifestPath, ".bin"))))
        {
            foreach ((string name, Tensor value) in network.state_dict())
            {
                if (value.dtype != ScalarType.Float32)
                {
                    continue; // num_batches_tracked: not used in evaluation
                }

                float[] data = value.contiguous().data<float>().ToArray();
                foreach (float f in data)
                {
                    blob.Write(f);
                }

                entries.Add(new { name, shape = value.shape, offset });
                offset += data.Length;
            }
        }

        File.WriteAllText(manifestPath, JsonSerializer.Serialize(entries));
        Command($"load {manifestPath}");
    }

    /// <summary>Python's fp32 logits for <paramref name="input"/> (N x 3 x S x S), to check both sides compute the same.</summary>
    public float[] Logits(float[] input, int batch, int sizePixels, string cacheDir)
    {
        ArgumentNullException.ThrowIfNull(input);
        string inPath = Path.Combine(cacheDir, "torch_check_in.bin"), outPath = Path.Combine(cacheDir, "torch_check_out.bin");
        File.WriteAllBytes(inPath, System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        Command(string.Create(CultureInfo.InvariantCulture, $"logits {inPath} {batch} {sizePixels} {outPath}"));
        byte[] bytes = File.ReadAllBytes(outPath);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    /// <summary>One inference run (no_grad) on a fixed random batch; returns its seconds.</summary>
    public double Infer(string dtype, int sizePixels, int batch) =>
        Seconds(Command(string.Create(CultureInfo.InvariantCulture, $"infer {dtype} {sizePixels} {batch}")));

    /// <summary>One fine-tuning step (forward, cross-entropy, backward, SGD Nesterov); returns its seconds.</summary>
    public double Train(int sizePixels, int batch) =>
        Seconds(Command(string.Create(CultureInfo.InvariantCulture, $"train {sizePixels} {batch}")));

    /// <summary>
    /// One step of Histo's default training recipe (AdamW, class-weighted cross-entropy, train mode) in
    /// <paramref name="precision"/> <c>fp32</c> or <c>bf16</c> (torch.autocast on the CPU); returns its seconds.
    /// </summary>
    public double Recipe(string precision, int sizePixels, int batch, int frozenStages) =>
        Seconds(Command(string.Create(CultureInfo.InvariantCulture, $"recipe {precision} {sizePixels} {batch} {frozenStages}")));

    private static double Seconds(string reply) =>
        double.Parse(reply.AsSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture);

    private string Command(string command)
    {
        _process.StandardInput.WriteLine(command);
        string? reply = _process.StandardOutput.ReadLine();
        if (reply == null || !(reply == "ok" || reply.StartsWith("ok ", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"python3-torch: {reply ?? "exited"} (after '{command.Split(' ')[0]}')");
        }

        return reply;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _process.StandardInput.WriteLine("quit");
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }
        }
        catch (IOException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
