using Histo.IO;
using Histo.Slides;

namespace Histo.Cli.Commands;

/// <summary>The image files of a path given to <c>predict</c> or <c>embed</c>.</summary>
internal static class ImageFiles
{
    /// <summary>The file itself, or every image under a folder (recursively, sorted); special files are skipped with a warning.</summary>
    public static List<string> Of(string path)
    {
        if (File.Exists(path))
        {
            return [Path.GetFullPath(path)];
        }

        if (!Directory.Exists(path))
        {
            throw new HistoException($"{path}: no such file or folder");
        }

        List<string> files = [];
        foreach (string file in Directory.EnumerateFiles(Path.GetFullPath(path), "*", SearchOption.AllDirectories)
                     .Where(SlideFormats.IsImageFile).Order(StringComparer.Ordinal))
        {
            var kind = InputFile.KindOf(file);
            if (kind == InputFileKind.Regular)
            {
                files.Add(file);
            }
            else
            {
                // opening a FIFO would block until something writes to it
                Terminal.ErrorLine($"warning: {file}: {InputFile.Describe(kind)}, not a regular file: skipped");
            }
        }

        if (files.Count == 0)
        {
            throw new HistoException($"{path}: no image files (.png, .jpg, .tif, .bmp) in the folder");
        }

        return files;
    }
}
