using Histo.Datasets;
using Histo.Imaging;

namespace Histo.Tests.Datasets;

public class DatasetLoaderTests
{
    [Fact]
    public void Idc_is_understood_from_its_names_labels_patients_sizes_and_problems()
    {
        var ds = DatasetTestData.FullIdc;
        Assert.Equal(7831, ds.Items.Count);
        Assert.Equal(["0", "1"], ds.Classes.Select(c => c.Name));
        Assert.Equal([0, 3], ds.Classes.Select(c => c.BachCode));
        Assert.Equal([5618, 2213], ds.CountsPerClass);
        Assert.Equal(192, ds.Groups.Count);
        Assert.All(ds.Items, i => Assert.Equal(GroupKind.Patient, i.GroupKind));
        var source = Assert.Single(ds.Sources);
        Assert.Equal("idc", source.Scheme);
        Assert.Equal((50, 50), (source.UsualWidthPixels, source.UsualHeightPixels));

        var cut = ds.Items.Single(i => Path.GetFileName(i.Path) == "12748_idx5_x1901_y1451_class0.png");
        Assert.Equal("idc:12748", cut.Group);
        Assert.Equal((50, 31), (cut.WidthPixels, cut.HeightPixels));
        Assert.Equal(0, cut.LabelIndex);
        Assert.True(ds.IsSmallerThanUsual(cut));

        Assert.Equal(58, ds.Problems.Count(p => p.Kind == DatasetProblemKind.SmallerThanUsual));
        Assert.Equal(58, ds.Items.Count(ds.IsSmallerThanUsual));
        Assert.Equal(["README.md", "patients.csv"],
            ds.Problems.Where(p => p.Kind == DatasetProblemKind.SkippedNonImage).Select(p => Path.GetFileName(p.Path)).Order(StringComparer.Ordinal));
        Assert.Equal(60, ds.Problems.Count);

        // patients.csv agrees with the per-patient counts read from the names.
        foreach (string line in File.ReadLines(Path.Combine(DatasetTestData.IdcRoot, "patients.csv")).Skip(1).Take(20))
        {
            var f = line.Split(',');
            var items = ds.Items.Where(i => i.Group == "idc:" + f[0]).ToList();
            Assert.Equal(int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), items.Count(i => i.LabelIndex == 0));
            Assert.Equal(int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), items.Count(i => i.LabelIndex == 1));
        }
    }

    [Fact]
    public void Border_cuts_are_padded_with_white_by_default_resized_or_skipped_on_request()
    {
        string root = DatasetTestData.CopyIdcPatients("12748");
        var padded = DatasetLoader.Load(root);
        Assert.Equal(SizePolicy.Pad, padded.SizePolicy);
        var cut = padded.Items.Single(i => i.HeightPixels == 31);
        var image = padded.LoadImage(cut);
        Assert.Equal((50, 50), (image.Width, image.Height));
        var original = ImageIO.Load(cut.Path);
        Assert.True(image.Row(30).SequenceEqual(original.Row(30)));
        Assert.All(image.Pixels.AsSpan(31 * image.Stride).ToArray(), b => Assert.Equal(255, b));

        var resized = DatasetLoader.Load(root, new DatasetLoadOptions { SizePolicy = SizePolicy.Resize });
        var stretched = resized.LoadImage(resized.Items.Single(i => i.HeightPixels == 31));
        Assert.Equal((50, 50), (stretched.Width, stretched.Height));
        Assert.Equal(ImageIO.Resize(original, 50, 50).Pixels, stretched.Pixels);

        var skipped = DatasetLoader.Load(root, new DatasetLoadOptions { SizePolicy = SizePolicy.Skip });
        Assert.Equal(padded.Items.Count - 1, skipped.Items.Count);
        Assert.DoesNotContain(skipped.Items, i => i.HeightPixels == 31);
        Assert.Contains(skipped.Problems, p => p.Kind == DatasetProblemKind.SmallerThanUsual && p.Message.Contains("skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void Patch_sizing_pads_crops_and_resizes()
    {
        var small = new RgbaImage(3, 2, Enumerable.Repeat((byte)10, 3 * 2 * 4).ToArray());
        var padded = PatchSizing.Apply(small, 4, 4, SizePolicy.Pad);
        Assert.Equal((10, 10, 10, 10), padded.GetPixel(2, 1));
        Assert.Equal((255, 255, 255, 255), padded.GetPixel(3, 0));
        Assert.Equal((255, 255, 255, 255), padded.GetPixel(0, 2));
        var cropped = PatchSizing.Apply(new RgbaImage(6, 2), 4, 2, SizePolicy.Pad);
        Assert.Equal((4, 2), (cropped.Width, cropped.Height));
        var resized = PatchSizing.Apply(small, 6, 4, SizePolicy.Resize);
        Assert.Equal((10, 10, 10, 10), resized.GetPixel(5, 3));
        Assert.Same(small, PatchSizing.Apply(small, 3, 2, SizePolicy.Resize));
        Assert.Throws<ArgumentException>(() => PatchSizing.Apply(small, 4, 4, SizePolicy.Skip));
    }

    [Fact]
    public void Naming_scheme_wins_over_the_folder_it_sits_in()
    {
        string root = DatasetTestData.CopyIdcPatients("12811");
        string moved = Path.Combine(root, "12811", "0", "12811_idx5_x701_y601_class1.png");
        File.Move(Path.Combine(root, "12811", "1", "12811_idx5_x701_y601_class1.png"), moved);
        var ds = DatasetLoader.Load(root);
        var item = ds.Items.Single(i => i.Path == moved);
        Assert.Equal("1", ds.Classes[item.LabelIndex].Name);
        var conflict = Assert.Single(ds.Problems, p => p.Kind == DatasetProblemKind.LabelConflict);
        Assert.Equal(moved, conflict.Path);
    }

    [Fact]
    public void Bach_class_folders_give_classes_in_code_order_and_one_group_per_image()
    {
        var ds = DatasetLoader.Load(DatasetTestData.BachRoot);
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], ds.Classes.Select(c => c.Name));
        Assert.Equal([0, 1, 2, 3], ds.Classes.Select(c => c.BachCode));
        Assert.Equal("class-folders", ds.Sources[0].Scheme);
        Assert.All(ds.Items, i => Assert.Equal(GroupKind.SourceImage, i.GroupKind));
        Assert.Equal(4, ds.Groups.Count);
        var normal = ds.Items.Single(i => i.LabelIndex == 0);
        Assert.Equal((587, 441), (normal.WidthPixels, normal.HeightPixels));
        Assert.Equal("image:normal", normal.Group);
        Assert.Equal((584, 438), (ds.Sources[0].UsualWidthPixels, ds.Sources[0].UsualHeightPixels));
        Assert.Empty(ds.Problems);
    }

    [Fact]
    public void A_folder_around_the_class_folders_is_entered_and_one_level_too_high_gets_a_hint()
    {
        string root = TestPaths.NewTempDirectory();
        foreach (string file in Directory.EnumerateFiles(DatasetTestData.BachRoot, "*.png", SearchOption.AllDirectories))
        {
            string target = Path.Combine(root, "ICIAR2018_BACH_Challenge", "Photos", Path.GetRelativePath(DatasetTestData.BachRoot, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var ds = DatasetLoader.Load(root);
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], ds.Classes.Select(c => c.Name));

        // With a second folder beside Photos (the release has WSI/), Photos becomes the only class: say where to look.
        Directory.CreateDirectory(Path.Combine(root, "ICIAR2018_BACH_Challenge", "WSI"));
        File.WriteAllText(Path.Combine(root, "ICIAR2018_BACH_Challenge", "WSI", "A01.xml"), "<Annotations/>");
        var e = Assert.Throws<SingleClassDatasetException>(() => DatasetLoader.Load(root));
        Assert.Equal("Photos", e.ClassName);
        Assert.Contains("try " + Path.Combine(root, "ICIAR2018_BACH_Challenge", "Photos"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BreakHis_names_give_binary_or_subtype_labels_and_patients()
    {
        var binary = DatasetLoader.Load(DatasetTestData.BreakHisRoot);
        Assert.Equal(["benign", "malignant"], binary.Classes.Select(c => c.Name));
        Assert.All(binary.Classes, c => Assert.Null(c.BachCode));
        Assert.Equal([4, 4], binary.CountsPerClass);
        Assert.Equal(8, binary.Groups.Count);
        Assert.Contains("breakhis:14-22549AB", binary.Groups);
        Assert.Equal("breakhis", binary.Sources[0].Scheme);

        var subtype = DatasetLoader.Load(DatasetTestData.BreakHisRoot, new DatasetLoadOptions { BreakHisLabeling = BreakHisLabeling.Subtype });
        Assert.Equal(NamingSchemes.BreakHisSubtypeNames.Order(StringComparer.Ordinal), subtype.Classes.Select(c => c.Name));
        foreach (var item in subtype.Items)
        {
            // The shared copy is laid out <benign|malignant>/<subtype>/: the parsed subtype matches the folder.
            Assert.Equal(Path.GetFileName(Path.GetDirectoryName(item.Path)), subtype.Classes[item.LabelIndex].Name);
        }
    }

    [Fact]
    public void Several_paths_combine_and_a_patient_seen_twice_stays_one_group()
    {
        string first = DatasetTestData.CopyIdcPatients("12748", "12811");
        string second = DatasetTestData.CopyIdcPatients("12811", "12882");
        var ds = DatasetLoader.Load([first, second]);
        Assert.Equal(2, ds.Sources.Count);
        Assert.Equal(["idc:12748", "idc:12811", "idc:12882"], ds.Groups);
        int expected = Directory.EnumerateFiles(first, "*.png", SearchOption.AllDirectories).Count()
                       + Directory.EnumerateFiles(second, "*.png", SearchOption.AllDirectories).Count();
        Assert.Equal(expected, ds.Items.Count);
        Assert.Equal(ds.Sources[0].ItemCount + ds.Sources[1].ItemCount, ds.Items.Count);
        Assert.All(ds.Items, i => Assert.Equal(i.Path.StartsWith(first, StringComparison.Ordinal) ? 0 : 1, i.SourceIndex));
    }

    [Fact]
    public void Csv_manifest_with_groups_relative_paths_and_problems()
    {
        string dir = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(dir, "img"));
        var sources = Directory.EnumerateFiles(Path.Combine(DatasetTestData.IdcRoot, "12882"), "*.png", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Take(4).ToArray();
        string[] names = ["a, one.png", "b.png", "c.png", "d.png"];
        for (int i = 0; i < 4; i++)
        {
            File.Copy(sources[i], Path.Combine(dir, "img", names[i]));
        }

        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image");
        string csv = Path.Combine(dir, "manifest.csv");
        File.WriteAllText(csv,
            "path,label,group\n" +
            "\"img/a, one.png\",tumour,P1\n" +
            "img/b.png,tumour,P1\n" +
            "img/c.png,stroma,P2\n" +
            "img/d.png,stroma,\n" +
            "img/missing.png,stroma,P3\n" +
            "notes.txt,stroma,P3\n");
        var ds = DatasetLoader.Load(csv);
        Assert.Equal("csv", ds.Sources[0].Scheme);
        Assert.Equal(["stroma", "tumour"], ds.Classes.Select(c => c.Name));
        Assert.Equal(4, ds.Items.Count);
        var a = ds.Items.Single(i => i.Path.EndsWith("a, one.png", StringComparison.Ordinal));
        Assert.Equal(("csv:P1", GroupKind.ManifestGroup, "tumour"), (a.Group, a.GroupKind, ds.Classes[a.LabelIndex].Name));
        var d = ds.Items.Single(i => i.Path.EndsWith("d.png", StringComparison.Ordinal));
        Assert.Equal(("image:d", GroupKind.SourceImage), (d.Group, d.GroupKind));
        Assert.Equal(["csv:P1", "csv:P2", "image:d"], ds.Groups);
        Assert.Single(ds.Problems, p => p.Kind == DatasetProblemKind.MissingFile && p.Message.Contains("line 6", StringComparison.Ordinal));
        Assert.Single(ds.Problems, p => p.Kind == DatasetProblemKind.SkippedNonImage && p.Message.Contains("line 7", StringComparison.Ordinal));
    }

    [Fact]
    public void Csv_manifest_without_groups_falls_back_to_the_naming_scheme()
    {
        string root = DatasetTestData.CopyIdcPatients("12748", "12811");
        var files = Directory.EnumerateFiles(root, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        string csv = Path.Combine(root, "list.csv");
        File.WriteAllLines(csv, files.Select(f => $"{Path.GetRelativePath(root, f)},{(f.Contains("class1", StringComparison.Ordinal) ? "Invasive" : "Normal")}"));
        var ds = DatasetLoader.Load(csv);
        Assert.Equal(files.Length, ds.Items.Count);
        Assert.Equal(["idc:12748", "idc:12811"], ds.Groups);
        Assert.Equal([0, 3], ds.Classes.Select(c => c.BachCode));
    }

    [Fact]
    public void Unreadable_images_are_reported_and_left_out()
    {
        string root = TestPaths.NewTempDirectory();
        foreach (string cls in new[] { "Normal", "Benign" })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            File.Copy(Directory.EnumerateFiles(Path.Combine(DatasetTestData.BachRoot, cls)).First(), Path.Combine(root, cls, "good.png"));
        }

        File.WriteAllText(Path.Combine(root, "Normal", "garbage.png"), "not a png");
        File.WriteAllBytes(Path.Combine(root, "Benign", "empty.tif"), []);
        byte[] good = File.ReadAllBytes(Path.Combine(root, "Benign", "good.png"));
        File.WriteAllBytes(Path.Combine(root, "Benign", "truncated.png"), good[..(good.Length / 3)]);

        var fast = DatasetLoader.Load(root);
        Assert.Equal(3, fast.Items.Count);
        Assert.Equal(["empty.tif", "garbage.png"],
            fast.Problems.Where(p => p.Kind == DatasetProblemKind.UnreadableImage).Select(p => Path.GetFileName(p.Path)).Order(StringComparer.Ordinal));

        // The truncated file has a valid header: only a full decode finds it.
        var verified = DatasetLoader.Load(root, new DatasetLoadOptions { VerifyImages = true });
        Assert.Equal(2, verified.Items.Count);
        Assert.Contains(verified.Problems, p => p.Kind == DatasetProblemKind.UnreadableImage && p.Path.EndsWith("truncated.png", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_inputs_give_typed_errors()
    {
        string empty = TestPaths.NewTempDirectory();
        Assert.Throws<EmptyDatasetException>(() => DatasetLoader.Load(empty));

        string textOnly = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(textOnly, "Normal"));
        File.WriteAllText(Path.Combine(textOnly, "Normal", "readme.txt"), "x");
        File.WriteAllText(Path.Combine(textOnly, "list.json"), "{}");
        var e = Assert.Throws<EmptyDatasetException>(() => DatasetLoader.Load(textOnly));
        Assert.Contains("2 non-image files skipped", e.Message, StringComparison.Ordinal);

        string oneClass = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(oneClass, "Benign"));
        File.Copy(TestPaths.Shared("microscopy", "bach", "Benign", "benign.png"), Path.Combine(oneClass, "Benign", "b1.png"));
        var single = Assert.Throws<SingleClassDatasetException>(() => DatasetLoader.Load(oneClass));
        Assert.Equal("Benign", single.ClassName);

        Assert.Throws<DatasetException>(() => DatasetLoader.Load(Path.Combine(empty, "missing")));
        var file = Assert.Throws<DatasetException>(() => DatasetLoader.Load(TestPaths.Shared("microscopy", "bach", "Benign", "benign.png")));
        Assert.Contains("not a dataset", file.Message, StringComparison.Ordinal);

        string csv = Path.Combine(empty, "bad.csv");
        File.WriteAllText(csv, "path,label\na.png,Normal\n\"b.png,Benign\n");
        var malformed = Assert.Throws<ManifestFormatException>(() => DatasetLoader.Load(csv));
        Assert.Equal(3, malformed.LineNumber);
        Assert.IsAssignableFrom<HistoException>(malformed);
    }
}
