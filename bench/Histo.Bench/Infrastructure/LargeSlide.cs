using System.Diagnostics;
using Histo.Bench.Baselines;

namespace Histo.Bench.Infrastructure;

/// <summary>
/// The large generated slide: the 5000 x 5000 BACH A01 window (real H&amp;E tissue with some glass) replicated 10 x 10
/// into a 50,000 x 50,000 pyramidal tiled TIFF (256 x 256 JPEG Q85 tiles, 9 levels, about 500 MB), made once with the
/// libvips command line and cached under bench/.cache (never committed).
/// </summary>
public static class LargeSlide
{
    /// <summary>Level-0 width and height of the generated slide.</summary>
    public const int SidePixels = 50_000;

    private const int Copies = 10;

    /// <summary>The A01 window's resolution, 0.4667 µm/px, written into the TIFF (pixels per millimetre) so µm/px is known.</summary>
    private const string PixelsPerMm = "2142.7040925648166";

    /// <summary>The cached file's name.</summary>
    public const string FileName = "large-50000-0.4667mpp.tif";

    /// <summary>Returns the cached slide, generating it first when missing or unreadable.</summary>
    public static string Ensure(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string path = Path.Combine(context.CacheDir, FileName);
        if (File.Exists(path) && IsComplete(path))
        {
            return path;
        }

        string source = Path.Combine(context.SharedData, "bach-a01", "A01-window.tif");
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"the tissue source for the large slide is missing: {source}");
        }

        string tmp = Path.Combine(context.CacheDir, $"large-50000.{Environment.ProcessId}.tmp.tif");
        Console.Error.WriteLine($"  generating {path} with libvips (once; about half a minute) ...");
        var psi = new ProcessStartInfo("vips") { UseShellExecute = false, RedirectStandardError = true };
        foreach (string a in new[] { "replicate", source, $"{tmp}[tile,pyramid,compression=jpeg,Q=85,tile-width=256,tile-height=256,xres={PixelsPerMm},yres={PixelsPerMm}]", $"{Copies}", $"{Copies}" })
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start vips (apt-get install libvips-tools)");
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !IsComplete(tmp))
            {
                throw new InvalidOperationException($"vips failed ({process.ExitCode}): {stderr.Trim()}");
            }

            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            File.Delete(tmp);
        }

        return path;
    }

    private static bool IsComplete(string path)
    {
        try
        {
            using var raw = new RawOpenSlide(path);
            return raw.Size == (SidePixels, SidePixels);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
