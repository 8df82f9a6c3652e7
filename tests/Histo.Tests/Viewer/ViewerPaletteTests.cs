using Histo.Bach;
using Histo.Viewer;

namespace Histo.Tests.Viewer;

/// <summary>The viewer paints every class in the core palette's colour: one palette for pictures, GeoJSON and the browser.</summary>
public sealed class ViewerPaletteTests
{
    [Fact]
    public void The_viewer_colour_of_each_BACH_class_is_the_core_palettes()
    {
        for (int code = 0; code < BachClasses.Count; code++)
        {
            string expected = ClassPalette.ToHex(ClassPalette.ColorOfBachCode(code));
            Assert.Equal(expected, ClassColors.Known(BachClasses.Names[code]));
            Assert.Equal(expected, ClassColors.Default(BachClasses.Names[code], index: 7));
            Assert.Equal(expected, ClassColors.Default(BachClasses.Names[code].ToUpperInvariant(), index: 0));
        }
    }

    [Fact]
    public void Other_classes_take_the_core_palettes_cycle_by_index()
    {
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(ClassPalette.ToHex(ClassPalette.CycleColor(i)), ClassColors.Default("Stroma", i));
        }

        Assert.Null(ClassColors.Known("Stroma"));
    }
}
