using Histo.Imaging;

namespace Histo.Datasets;

/// <summary>
/// What to do with images smaller than the usual size of their dataset (IDC has 58 border cuts below 50x50).
/// </summary>
public enum SizePolicy
{
    /// <summary>
    /// Default. Keep the image and pad it on the right and bottom with white (glass) up to the usual size: a border
    /// cut is missing exactly the part beyond the slide edge, and the pixel scale (µm/px) stays unchanged.
    /// </summary>
    Pad,

    /// <summary>Keep the image and stretch it to the usual size (changes the pixel scale of that image).</summary>
    Resize,

    /// <summary>Leave such images out of the dataset (each is listed as a problem).</summary>
    Skip,
}

/// <summary>Brings an image to a dataset's usual size according to a <see cref="SizePolicy"/>.</summary>
public static class PatchSizing
{
    /// <summary>White, the colour of glass, used for padding.</summary>
    public const byte PadValue = 255;

    /// <summary>
    /// Returns an image of exactly <paramref name="widthPixels"/> x <paramref name="heightPixels"/>:
    /// <see cref="SizePolicy.Pad"/> pads right and bottom with opaque white (and crops centrally a dimension that is
    /// larger), <see cref="SizePolicy.Resize"/> resizes. The input is returned unchanged when it already fits.
    /// <see cref="SizePolicy.Skip"/> is not an operation on pixels (the loader drops those images) and is rejected.
    /// </summary>
    public static RgbaImage Apply(RgbaImage image, int widthPixels, int heightPixels, SizePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(widthPixels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heightPixels, 1);
        if (image.Width == widthPixels && image.Height == heightPixels)
        {
            return image;
        }

        switch (policy)
        {
            case SizePolicy.Resize:
                return ImageIO.Resize(image, widthPixels, heightPixels);
            case SizePolicy.Pad:
                var result = new RgbaImage(widthPixels, heightPixels);
                result.Pixels.AsSpan().Fill(PadValue);
                int copyWidth = Math.Min(widthPixels, image.Width);
                int copyHeight = Math.Min(heightPixels, image.Height);
                int sourceX = (image.Width - copyWidth) / 2;
                int sourceY = (image.Height - copyHeight) / 2;
                for (int y = 0; y < copyHeight; y++)
                {
                    image.Row(sourceY + y).Slice(sourceX * RgbaImage.Channels, copyWidth * RgbaImage.Channels)
                        .CopyTo(result.Row(y));
                }

                return result;
            default:
                throw new ArgumentException($"size policy {policy} does not transform images", nameof(policy));
        }
    }
}
