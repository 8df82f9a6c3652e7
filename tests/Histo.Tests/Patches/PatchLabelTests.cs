using Histo.Maps;
using Histo.Patches;

namespace Histo.Tests.Patches;

public class PatchLabelTests
{
    private static RasterMask Stripes(params (byte Code, int Columns)[] stripes)
    {
        int width = stripes.Sum(s => s.Columns);
        var mask = new RasterMask(width, 10, 1, 1);
        int x = 0;
        foreach (var (code, columns) in stripes)
        {
            for (int y = 0; y < 10; y++)
            {
                mask.Row(y).Slice(x, columns).Fill(code);
            }

            x += columns;
        }

        return mask;
    }

    [Fact]
    public void Rounded_mean_is_the_seed_rule_and_rounds_half_to_even()
    {
        // 6 columns Normal (0) and 4 Invasive (3): mean 1.2 -> Benign (1), the seed rule's known quirk.
        var mixed = PatchLabels.Label(Stripes((0, 6), (3, 4)), 0, 0, 10)!.Value;
        Assert.Equal(1, mixed.Label);
        Assert.Equal(0.4, mixed.LabelFraction, 9);
        Assert.Equal(2, PatchLabels.Label(Stripes((2, 5), (3, 5)), 0, 0, 10)!.Value.Label); // 2.5 -> 2
        Assert.Equal(4, PatchLabels.Label(Stripes((3, 5), (5, 5)), 0, 0, 10)!.Value.Label); // 4 -> 4
        Assert.Equal(4, PatchLabels.Label(Stripes((4, 5), (5, 5)), 0, 0, 10)!.Value.Label); // 4.5 -> 4
    }

    [Fact]
    public void Majority_takes_the_most_frequent_value_and_the_smaller_on_a_tie()
    {
        var mask = Stripes((0, 6), (3, 4));
        Assert.Equal(new PatchLabel(0, 0.4), PatchLabels.Label(mask, 0, 0, 10, LabelRule.Majority));
        Assert.Equal(2, PatchLabels.Label(Stripes((7, 5), (2, 5)), 0, 0, 10, LabelRule.Majority)!.Value.Label);
    }

    [Fact]
    public void A_patch_outside_the_mask_has_no_label()
    {
        Assert.Null(PatchLabels.Label(Stripes((1, 10)), 50, 50, 10));
    }

    [Fact]
    public void A01_labels_over_an_exact_tiling_add_up_to_the_mask_counts()
    {
        using var slide = Histo.Slides.Slide.Open(TestPaths.A01Window);
        var labels = RasterMask.Load(TestPaths.A01Labels, slide.Width, slide.Height);
        var grid = new PatchGrid(slide.Width, slide.Height, 1.0, 250); // 20 x 20 patches tile the 5000 x 5000 window
        Assert.Equal(400, grid.PositionCount);
        double benignPixels = 0;
        int benignPatches = 0;
        foreach (var p in grid)
        {
            var label = PatchLabels.Label(labels, p.Level0X, p.Level0Y, p.Level0Size)!.Value;
            benignPixels += label.LabelFraction * 250 * 250;
            benignPatches += label.Label == 1 ? 1 : 0;
            if (p.Level0X + p.Level0Size <= 4425 || p.Level0Y + p.Level0Size <= 3275 || p.Level0Y >= 4478)
            {
                Assert.Equal(new PatchLabel(0, 0), label); // outside the benign duct's bounding box
            }
        }

        Assert.Equal(487_686, benignPixels, 3); // the README's count of code-1 pixels
        Assert.InRange(benignPatches, 4, 12);
    }
}
