using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Slides;

/// <summary>What a slide file and an image file are (extensions, first bytes, folder listings), each defined once.</summary>
public sealed class SlideFormatsTests
{
    [Fact]
    public void Images_are_slides_and_tiffs_are_both_while_whole_slide_formats_are_not_images()
    {
        Assert.Subset(SlideFormats.SlideExtensions.ToHashSet(), SlideFormats.ImageExtensions.ToHashSet());
        Assert.Subset(SlideFormats.SlideExtensions.ToHashSet(), SlideFormats.WholeSlideExtensions.ToHashSet());
        Assert.Subset(SlideFormats.ImageExtensions.ToHashSet(), SlideFormats.TiffExtensions.ToHashSet());
        Assert.Subset(SlideFormats.WholeSlideExtensions.ToHashSet(), SlideFormats.TiffExtensions.ToHashSet());
        Assert.Equal([".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff"], SlideFormats.ImageExtensions.Order(StringComparer.Ordinal));

        Assert.True(SlideFormats.IsImageFile("x/A.PNG"));
        Assert.True(SlideFormats.IsTiffFile("field.TIFF"));
        Assert.False(SlideFormats.IsImageFile("slide.svs"));
        Assert.False(SlideFormats.IsTiffFile("field.png"));
        Assert.True(SlideFormats.IsSlideFile("slide.svs"));
        Assert.True(SlideFormats.IsSlideFile("field.jpg"));
        Assert.False(SlideFormats.IsSlideFile(".slide.svs"));
        Assert.False(SlideFormats.IsSlideFile("notes.txt"));
        Assert.Contains(".mrxs", SlideFormats.Listing, StringComparison.Ordinal);
    }

    [Fact]
    public void The_first_bytes_tell_each_image_format_and_nothing_else()
    {
        var image = new RgbaImage(6, 4);
        Assert.Equal(ImageFileFormat.Png, ImageSignature.Detect(ImageIO.Encode(image, ".png")));
        Assert.Equal(ImageFileFormat.Jpeg, ImageSignature.Detect(ImageIO.Encode(image, ".jpg")));
        Assert.Equal(ImageFileFormat.Tiff, ImageSignature.Detect(ImageIO.Encode(image, ".tif")));
        Assert.Equal(ImageFileFormat.Bmp, ImageSignature.Detect(ImageIO.Encode(image, ".bmp")));
        Assert.Equal(ImageFileFormat.Tiff, ImageSignature.Detect("MM\0*"u8));
        Assert.Equal(ImageFileFormat.Tiff, ImageSignature.Detect("II+\0"u8)); // BigTIFF

        Assert.Null(ImageSignature.Detect("II\0\0"u8));
        Assert.Null(ImageSignature.Detect([0xFF, 0xD8, 0x00, 0x00]));
        Assert.Null(ImageSignature.Detect("<Annotations>"u8));
        Assert.Null(ImageSignature.Detect("{\"type\""u8));
        Assert.Null(ImageSignature.Detect([]));
    }

    [Fact]
    public void A_file_named_as_an_image_whose_bytes_are_not_one_is_refused_before_decoding()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "not.png");
        File.WriteAllBytes(path, "II\0\0 not a tiff"u8.ToArray());
        var e = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.Contains("first bytes are not PNG, JPEG, TIFF or BMP", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slide_files_of_a_folder_are_listed_sorted_without_hidden_or_excluded_entries()
    {
        string root = TestPaths.NewTempDirectory();
        foreach (string name in new[] { "b.png", "a.svs", ".hidden.svs", "notes.txt", "sub/c.tif", ".git/d.svs", "out/e.svs", "sub/.f.ndpi" })
        {
            string path = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "");
        }

        Assert.Equal([Path.Combine(root, "a.svs"), Path.Combine(root, "b.png")], SlideFormats.FindSlideFiles(root, recursive: false));
        Assert.Equal([Path.Combine(root, "a.svs"), Path.Combine(root, "b.png"), Path.Combine(root, "sub", "c.tif")],
            SlideFormats.FindSlideFiles(root, recursive: true, excludeDirectory: Path.Combine(root, "out")));
        Assert.Contains(Path.Combine(root, "out", "e.svs"), SlideFormats.FindSlideFiles(root, recursive: true));
        // paths keep the folder as it was given (a cohort's outputs are named after them)
        string given = Path.Combine(root, "sub", "..");
        Assert.Equal([Path.Combine(given, "a.svs"), Path.Combine(given, "b.png")], SlideFormats.FindSlideFiles(given, recursive: false));
    }
}
