using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// The 50,000 x 50,000 pyramidal TIFF the tissue and grid benchmarks run on: the BACH A01 window (5000 x 5000, 0.4667
/// µm/px, glass on top, stroma and fat below) tiled 10 x 10 with libvips and saved as 256 px JPEG tiles with a pyramid.
/// Generated once (about 40 s, 0.5 GB) and kept in bench/.cache; it is derived from BACH data, so it is never committed.
/// </summary>
internal static class LargeSlide
{
    public const int Side = 50_000;

    /// <summary>The generated 50k slide (one generator: <see cref="Infrastructure.LargeSlide"/>).</summary>
    public static string Ensure(BenchContext context) => Infrastructure.LargeSlide.Ensure(context);

    /// <summary>Runs a program and returns its standard output; a non-zero exit throws with its standard error.</summary>
    public static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }

    /// <summary>Runs a Python baseline script with Debian's python (which has openslide, numpy, torch) and parses its JSON.</summary>
    public static JsonElement Python(BenchContext context, string script, params string[] args)
    {
        string path = Path.Combine(context.RepoRoot, "bench", "Histo.Bench", "python", script);
        string output = Run("/usr/bin/python3", [path, .. args]);
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    }

    public static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
