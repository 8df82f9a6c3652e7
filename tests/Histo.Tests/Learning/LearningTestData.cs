using SkiaSharp;

namespace Histo.Tests.Learning;

/// <summary>Finds the shared test images and decodes them for the network.</summary>
internal static class LearningTestData
{
    /// <summary>Folder of the shared data: $HISTO_DATA_DIR, else a <c>shared/data</c> beside an ancestor folder of the test binaries.</summary>
    public static string DataDirectory { get; } = FindDataDirectory();

    public static string PathOf(string relativePath)
    {
        string path = Path.Combine(DataDirectory, relativePath);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Test image '{relativePath}' is not in {DataDirectory} (set HISTO_DATA_DIR).", path);
        }

        return path;
    }

    /// <summary>Decodes an image and resizes it (bilinear) to a square RGBA buffer.</summary>
    public static (byte[] Pixels, int RowStride) LoadRgba(string path, int size)
    {
        using SKBitmap decoded = SKBitmap.Decode(path) ?? throw new InvalidDataException($"'{path}' could not be decoded.");
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = new SKBitmap(info);
        if (!decoded.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
        {
            throw new InvalidDataException($"'{path}' could not be resized.");
        }

        return (resized.GetPixelSpan().ToArray(), resized.RowBytes);
    }

    private static string FindDataDirectory()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("HISTO_DATA_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return "/work/shared/data";
    }
}
