using System.Text;
using Histo.Datasets;
using Histo.Learning.Training;

namespace Histo.Tests.Training;

/// <summary>Tiny real training sets cut from ../shared/data/idc by a CSV manifest (nothing is copied into the repo).</summary>
internal static class TrainingTestData
{
    /// <summary>The first <paramref name="patients"/> IDC patients (sorted ids) with both classes, up to <paramref name="perClass"/> patches of each class.</summary>
    public static string WriteIdcManifest(string directory, int patients = 4, int perClass = 12)
    {
        var text = new StringBuilder("path,label,group\n");
        string idc = TestPaths.Shared("idc");
        int taken = 0;
        foreach (string patient in Directory.GetDirectories(idc).Order(StringComparer.Ordinal))
        {
            string[][] byClass = new[] { "0", "1" }.Select(c => Path.Combine(patient, c))
                .Select(d => Directory.Exists(d) ? Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).Take(perClass).ToArray() : [])
                .ToArray();
            if (byClass.Any(files => files.Length < 3))
            {
                continue;
            }

            for (int c = 0; c < 2; c++)
            {
                foreach (string file in byClass[c])
                {
                    text.Append(file).Append(',').Append(c).Append(',').Append(Path.GetFileName(patient)).Append('\n');
                }
            }

            if (++taken == patients)
            {
                break;
            }
        }

        string manifest = Path.Combine(directory, "tiny.csv");
        File.WriteAllText(manifest, text.ToString());
        return manifest;
    }

    /// <summary>A fast recipe: 32 px input, small batches, two threads.</summary>
    public static TrainingOptions Fast(int folds = 2, int epochs = 1) => new()
    {
        Folds = folds,
        Epochs = epochs,
        BatchSize = 16,
        InputSizePixels = 32,
        Threads = 2,
        Seed = 7,
        Final = FinalModelChoice.AllData,
    };

    public static Dataset Load(string manifest) => DatasetLoader.Load(manifest);

    /// <summary>Arguments of a fast <c>histo train</c>.</summary>
    public static string[] FastCliArgs(string manifest, string model, int folds = 2, int epochs = 1) =>
        ["train", manifest, "-o", model, "--folds", folds.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "16", "--input", "32", "--threads", "2", "--seed", "7"];
}
