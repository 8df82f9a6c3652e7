using System.Numerics;
using Histo.Datasets;
using OpenCvSharp;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Listing a dataset and checking it for leaks on the IDC development split (7,831 patches of 50 x 50 px):
/// image sizes from file headers against decoding every file with OpenCV, and the multi-index near-duplicate search
/// against comparing every pair of hashes.
/// </summary>
public sealed class DatasetBenchmarks : IBenchmark
{
    public string Name => "dataset";

    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string idc = Path.Combine(context.SharedData, "idc");
        int repetitions = context.Quick ? 1 : 3;
        var files = Directory.EnumerateFiles(idc, "*.png", SearchOption.AllDirectories).ToArray();

        Dataset dataset = null!;
        double loadSeconds = BenchContext.MedianSeconds(() => dataset = DatasetLoader.Load(idc), 1, repetitions);
        double decodeSeconds = BenchContext.MedianSeconds(() =>
        {
            Parallel.ForEach(files, f =>
            {
                using var m = Cv2.ImRead(f, ImreadModes.Unchanged);
                _ = m.Size();
            });
        }, 1, repetitions);
        yield return new BenchResult("dataset-load-idc", files.Length / loadSeconds, files.Length / decodeSeconds, "files/s",
            "OpenCV decode of every file", Notes: "DatasetLoader: scheme, labels, groups, sizes from headers");

        IReadOnlyList<ImageFingerprint> fingerprints = null!;
        double hashSeconds = BenchContext.MedianSeconds(() => fingerprints = LeakChecker.Fingerprint(dataset), 0, repetitions);
        var split = GroupKFold.Split(dataset, 5, 42);
        var options = new LeakCheckOptions();
        double checkSeconds = BenchContext.MedianSeconds(() => LeakChecker.Check(dataset, split, fingerprints, options), 1, repetitions);
        int[] folds = split.FoldsOf(dataset);
        double allPairsSeconds = BenchContext.MedianSeconds(() => AllPairs(fingerprints, folds, options), 0, repetitions);
        yield return new BenchResult("leakcheck-near-duplicates-idc", checkSeconds, allPairsSeconds, "s", "all-pairs Hamming scan",
            LowerIsBetter: true, Notes: "multi-index hashing, 8 flips/rotations, threshold 10");
        yield return new BenchResult("leakcheck-hash-idc", files.Length / hashSeconds, files.Length / decodeSeconds, "files/s",
            "OpenCV decode only", Notes: "decode + SHA-256 + pHash + thumbnail");
    }

    /// <summary>The obvious alternative: every pair of informative images in different folds, 8 transforms each.</summary>
    private static int AllPairs(IReadOnlyList<ImageFingerprint> fingerprints, int[] folds, LeakCheckOptions options)
    {
        var informative = Enumerable.Range(0, fingerprints.Count).Where(i => fingerprints[i].IsHashed && !fingerprints[i].IsLowInformation(options)).ToArray();
        var hashes = informative.Select(i => fingerprints[i].DihedralHashes.ToArray()).ToArray();
        int found = 0;
        for (int a = 0; a < informative.Length; a++)
        {
            for (int b = a + 1; b < informative.Length; b++)
            {
                if (folds[informative[a]] == folds[informative[b]])
                {
                    continue;
                }

                ulong target = hashes[b][0];
                for (int t = 0; t < 8; t++)
                {
                    if (BitOperations.PopCount(hashes[a][t] ^ target) <= options.HammingThreshold
                        && fingerprints[informative[a]].Correlation(fingerprints[informative[b]], t) >= options.MinCorrelation)
                    {
                        found++;
                        break;
                    }
                }
            }
        }

        return found;
    }
}
