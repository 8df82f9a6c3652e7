using System.Diagnostics;

namespace Histo.Bench.Baselines;

/// <summary>
/// bench/python/openslide_read.py in <c>--serve</c> mode: a python3-openslide reader kept running so that a
/// benchmark can interleave it with Histo's reads chunk by chunk (<see cref="Open"/> a fresh handle, then
/// <see cref="Read"/> ranges of the positions file). Each call blocks until Python answers.
/// </summary>
public sealed class PythonReadServer : IDisposable
{
    private readonly Process _process;

    /// <summary>Starts the reader on a slide and a positions file ("x y" lines).</summary>
    public PythonReadServer(BenchContext context, string slide, string positionsFile, int regionPixels, int threads)
    {
        var psi = new ProcessStartInfo(PythonBaseline.Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (string a in new[] { Path.Combine(PythonBaseline.ScriptDir(context), "openslide_read.py"), slide, positionsFile, "--size", $"{regionPixels}", "--threads", $"{threads}", "--serve" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {PythonBaseline.Interpreter}");
        _process.StandardInput.AutoFlush = true;
    }

    /// <summary>Closes the current handle and opens a fresh one (empty tile cache).</summary>
    public void Open() => Command("open");

    /// <summary>Reads positions <paramref name="from"/> to <paramref name="to"/> - 1.</summary>
    public void Read(int from, int to) => Command($"read {from} {to}");

    private void Command(string command)
    {
        _process.StandardInput.WriteLine(command);
        string? reply = _process.StandardOutput.ReadLine();
        if (reply != "ok")
        {
            throw new InvalidOperationException($"python3-openslide reader: {reply ?? "exited"} (after '{command}')");
        }
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
