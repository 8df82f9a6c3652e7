using Histo.Datasets;
using OpenCvSharp;

namespace Histo.Tests.Datasets;

public class LeakCheckerTests
{
    [Fact]
    public void Naive_patch_level_split_of_idc_is_leaky_and_the_grouped_split_is_clean()
    {
        var ds = DatasetTestData.FullIdc;
        var fingerprints = DatasetTestData.FullIdcFingerprints;

        var naive = LeakChecker.Check(ds, GroupKFold.SplitUngrouped(ds, 3, 42), fingerprints);
        Assert.True(naive.IsLeaky);
        Assert.False(naive.Grouped);
        // Every patient with at least 3 patches ends up on several sides of a random patch split.
        Assert.True(naive.GroupLeaks.Count >= 180, $"only {naive.GroupLeaks.Count} patients straddle folds");
        Assert.All(naive.GroupLeaks, leak => Assert.True(leak.ItemsPerFold.Count > 1));
        Assert.StartsWith("LEAK:", naive.Verdict, StringComparison.Ordinal);

        var grouped = LeakChecker.Check(ds, GroupKFold.Split(ds, 3, 42), fingerprints);
        Assert.False(grouped.IsLeaky, grouped.Verdict);
        Assert.Empty(grouped.GroupLeaks);
        Assert.Equal(0, grouped.NearDuplicateCount);
        Assert.Equal(0, grouped.ExactDuplicateCount);
        Assert.Empty(grouped.Unreadable);
        // The 50 x 1 slivers and the mostly-white edge patches are set aside, not compared.
        Assert.InRange(grouped.LowInformationCount, 50, 500);
        Assert.StartsWith("clean", grouped.Verdict, StringComparison.Ordinal);

        // The guard training calls: refuses the naive split, lets the grouped one through.
        var refused = Assert.Throws<LeakFoundException>(() => LeakChecker.EnsureClean(naive));
        Assert.Contains("groups on both sides", refused.Message, StringComparison.Ordinal);
        Assert.Same(naive, refused.Report);
        LeakChecker.EnsureClean(grouped);
    }

    [Fact]
    public void An_image_copied_into_another_patients_folder_is_found_exactly_and_a_flipped_copy_as_near_duplicate()
    {
        string root = DatasetTestData.CopyIdcPatients(DatasetTestData.SmallPatients);
        string[] p = DatasetTestData.SmallPatients;
        string original = DatasetTestData.InformativePatch(root, p[0], 1);
        string copy = Path.Combine(root, p[1], "1", $"{p[1]}_idx5_x9001_y9001_class1.png");
        File.Copy(original, copy);
        string flipped = Path.Combine(root, p[2], "1", $"{p[2]}_idx5_x9001_y9001_class1.png");
        DatasetTestData.WriteTransformed(original, flipped, m => m.Flip(FlipMode.Y));
        string rotated = Path.Combine(root, p[3], "0", $"{p[3]}_idx5_x9001_y9001_class0.png");
        DatasetTestData.WriteTransformed(original, rotated, m =>
        {
            var r = new Mat();
            Cv2.Rotate(m, r, RotateFlags.Rotate90Clockwise);
            return r;
        });

        var ds = DatasetLoader.Load(root);
        // Four patients, four folds: each patient is alone in its fold, so every copy sits across a fold boundary.
        var split = GroupKFold.Split(ds, 4, 1);
        var report = LeakChecker.Check(ds, split);
        Assert.True(report.IsLeaky);
        Assert.Empty(report.GroupLeaks);

        var exact = Assert.Single(report.ExactDuplicates);
        Assert.Equal(1, report.ExactDuplicateCount);
        Assert.Equal([original, copy], new[] { exact.PathA, exact.PathB }.Order(StringComparer.Ordinal));
        Assert.NotEqual(exact.FoldA, exact.FoldB);

        // The flipped and the rotated copies match the original, the exact copy and each other (one is a flip and
        // rotation of the other): five near-duplicate pairs; the exact pair is counted once, as exact.
        Assert.Equal(5, report.NearDuplicateCount);
        Assert.All(report.NearDuplicates, pair =>
        {
            Assert.True(pair.HammingDistance <= 4, $"distance {pair.HammingDistance}");
            Assert.True(pair.Correlation > 0.97, $"correlation {pair.Correlation}");
            Assert.NotEqual(pair.FoldA, pair.FoldB);
        });
        var flipPair = report.NearDuplicates.First(pair => pair.PathA == flipped || pair.PathB == flipped);
        Assert.Equal("flip-horizontal", flipPair.Transform);
        Assert.Contains(report.NearDuplicates, pair => (pair.PathA == rotated || pair.PathB == rotated) && pair.Transform is "rotate-90" or "rotate-270");
        Assert.DoesNotContain(report.NearDuplicates, pair => new[] { pair.PathA, pair.PathB }.Order(StringComparer.Ordinal).SequenceEqual(new[] { original, copy }.Order(StringComparer.Ordinal)));

        var withoutFlips = LeakChecker.Check(ds, split, new LeakCheckOptions { MatchFlipsAndRotations = false });
        Assert.Equal(0, withoutFlips.NearDuplicateCount);
        Assert.Equal(1, withoutFlips.ExactDuplicateCount);
    }

    [Fact]
    public void Blank_and_mostly_white_images_are_not_evidence_of_a_leak()
    {
        string root = DatasetTestData.CopyIdcPatients(DatasetTestData.SmallPatients);
        string[] p = DatasetTestData.SmallPatients;
        // Byte-identical pure white patches in two patients, near-white ones with faint noise in a third,
        // and a mostly white one (a thin strip of tissue) in the fourth.
        var rng = new Random(3);
        for (int k = 0; k < 2; k++)
        {
            DatasetTestData.WriteImage(Path.Combine(root, p[k], "0", $"{p[k]}_idx5_x9001_y9001_class0.png"), 50, 50, (_, _) => (255, 255, 255));
        }

        DatasetTestData.WriteImage(Path.Combine(root, p[2], "0", $"{p[2]}_idx5_x9001_y9001_class0.png"), 50, 50,
            (_, _) => ((byte)rng.Next(246, 256), (byte)rng.Next(246, 256), (byte)rng.Next(246, 256)));
        DatasetTestData.WriteImage(Path.Combine(root, p[2], "0", $"{p[2]}_idx5_x9051_y9001_class0.png"), 50, 50,
            (_, _) => ((byte)rng.Next(244, 256), (byte)rng.Next(244, 256), (byte)rng.Next(244, 256)));
        DatasetTestData.WriteImage(Path.Combine(root, p[3], "0", $"{p[3]}_idx5_x9001_y9001_class0.png"), 50, 50,
            (x, _) => x < 6 ? ((byte)200, (byte)120, (byte)190) : ((byte)250, (byte)250, (byte)250));

        var ds = DatasetLoader.Load(root);
        var report = LeakChecker.Check(ds, GroupKFold.Split(ds, 4, 1));
        Assert.False(report.IsLeaky, report.Verdict);
        Assert.True(report.LowInformationCount >= 5);

        // With the blank filter off the same images would be called duplicates: the filter is what keeps them out.
        var unfiltered = LeakChecker.Check(ds, GroupKFold.Split(ds, 4, 1),
            new LeakCheckOptions { MinGreyStd = 0, MaxWhiteFraction = 1, MinSidePixels = 0 });
        Assert.True(unfiltered.ExactDuplicateCount >= 1);
    }

    [Fact]
    public void Patches_of_one_image_split_across_manifest_groups_are_a_source_image_leak()
    {
        string dir = TestPaths.NewTempDirectory();
        var sources = Directory.EnumerateFiles(Path.Combine(DatasetTestData.IdcRoot, "12909"), "*.png", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).ToArray();
        var lines = new List<string>();
        for (int i = 0; i < sources.Length; i++)
        {
            // All patches come from one slide "S1"; the manifest wrongly gives each its own group.
            string name = $"S1_x{i * 50}_y0.png";
            File.Copy(sources[i], Path.Combine(dir, name));
            lines.Add($"{name},{(sources[i].Contains("class1", StringComparison.Ordinal) ? "1" : "0")},g{i}");
        }

        File.WriteAllLines(Path.Combine(dir, "m.csv"), lines);
        var ds = DatasetLoader.Load(Path.Combine(dir, "m.csv"));
        var report = LeakChecker.Check(ds, GroupKFold.Split(ds, 3, 1));
        Assert.Empty(report.GroupLeaks);
        var leak = Assert.Single(report.SourceImageLeaks);
        Assert.Equal("S1", leak.Group);
        Assert.Equal(3, leak.ItemsPerFold.Count);
        Assert.True(report.IsLeaky);
    }

    [Fact]
    public void A_file_that_cannot_be_decoded_is_reported_not_fatal()
    {
        string root = DatasetTestData.CopyIdcPatients("12748", "12811");
        string target = Directory.EnumerateFiles(Path.Combine(root, "12811", "1")).Order(StringComparer.Ordinal).First();
        byte[] bytes = File.ReadAllBytes(target);
        File.WriteAllBytes(target, bytes[..40]); // header intact, pixels gone
        var ds = DatasetLoader.Load(root);
        Assert.Contains(ds.Items, i => i.Path == target);
        var report = LeakChecker.Check(ds, GroupKFold.Split(ds, 2, 1));
        var bad = Assert.Single(report.Unreadable);
        Assert.Equal(target, bad.Path);
        Assert.False(report.IsLeaky);
    }

    [Fact]
    public void Flip_and_rotation_hashes_derived_from_one_dct_match_hashing_the_transformed_image()
    {
        string original = TestPaths.Shared("microscopy", "breakhis", "malignant", "ductal_carcinoma", "SOB_M_DC-14-2523-40-010.png");
        string dir = TestPaths.NewTempDirectory();
        var fp = ImageFingerprint.Compute(original);
        (string Name, Func<Mat, Mat> Transform)[] cases =
        [
            ("flip-horizontal", m => m.Flip(FlipMode.Y)),
            ("flip-vertical", m => m.Flip(FlipMode.X)),
            ("rotate-180", m => m.Flip(FlipMode.XY)),
            ("transpose", m => m.T().ToMat()),
            ("rotate-90", m => { var r = new Mat(); Cv2.Rotate(m, r, RotateFlags.Rotate90Clockwise); return r; }),
            ("rotate-270", m => { var r = new Mat(); Cv2.Rotate(m, r, RotateFlags.Rotate90Counterclockwise); return r; }),
        ];
        foreach (var (name, transform) in cases)
        {
            string path = Path.Combine(dir, name + ".png");
            DatasetTestData.WriteTransformed(original, path, transform);
            var other = ImageFingerprint.Compute(path);
            int t = ImageFingerprint.TransformNames.ToList().IndexOf(name);
            // Resampling is not exactly symmetric, so a few bits may differ; a wrong derivation would differ in ~32.
            Assert.True(ImageFingerprint.Distance(fp.DihedralHashes[t], other.Hash) <= 6, $"{name}: {ImageFingerprint.Distance(fp.DihedralHashes[t], other.Hash)} bits");
            Assert.True(fp.Correlation(other, t) > 0.98, $"{name}: r = {fp.Correlation(other, t)}");
            Assert.True(ImageFingerprint.Distance(fp.Hash, other.Hash) > 10, $"{name} should not match untransformed");
        }

        // Different tumours: far apart.
        var lobular = ImageFingerprint.Compute(TestPaths.Shared("microscopy", "breakhis", "malignant", "lobular_carcinoma", "SOB_M_LC-14-12204-40-001.png"));
        Assert.True(Enumerable.Range(0, 8).All(t => ImageFingerprint.Distance(fp.DihedralHashes[t], lobular.Hash) > 10));
    }
}
