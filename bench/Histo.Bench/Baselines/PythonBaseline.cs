using System.Diagnostics;
using System.Text.Json;

namespace Histo.Bench.Baselines;

/// <summary>
/// Runs a baseline script from bench/python with Debian's Python (/usr/bin/python3, which has python3-openslide and
/// python3-torch; the python3 on PATH may be another interpreter without them) and parses the JSON object it prints
/// as its last stdout line.
/// </summary>
public static class PythonBaseline
{
    /// <summary>Debian's interpreter, the one the apt packages install into.</summary>
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>The bench/python folder.</summary>
    public static string ScriptDir(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Path.Combine(context.RepoRoot, "bench", "python");
    }

    /// <summary>
    /// Runs <paramref name="script"/> (a path, or a file name in bench/python) with <paramref name="args"/> and
    /// returns the parsed JSON object. Throws with the script's stderr when it fails or prints no JSON.
    /// </summary>
    public static JsonElement Run(BenchContext context, string script, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(script);
        string path = File.Exists(script) ? script : Path.Combine(ScriptDir(context), script);
        var psi = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(path);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // The baselines get the same allocator as Histo (bench/run preloads tcmalloc) unless the caller says otherwise.
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Interpreter}");
        var stderrTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(path)} did not finish in time");
        }

        string stderr = stderrTask.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(path)} exited {process.ExitCode}: {LastLine(stderr)}");
        }

        string? json = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        if (json == null)
        {
            throw new InvalidOperationException($"{Path.GetFileName(path)} printed no JSON object: {LastLine(stderr)}");
        }

        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    /// <summary>Runs a one-line Python expression and returns what it prints (e.g. a module's version), or null.</summary>
    public static string? Eval(string code)
    {
        try
        {
            var psi = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(code);
            using var process = Process.Start(psi);
            if (process == null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no stderr)";
}
