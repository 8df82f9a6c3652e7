using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Histo.Imaging;

/// <summary>
/// The one place where Histo's pixel buffers (<see cref="RgbaImage"/>, 8-bit grey <c>byte[]</c>, small
/// <c>double[,]</c> matrices) become OpenCV <see cref="Mat"/>s and back. A stage wraps or converts its buffer here,
/// runs the OpenCV algorithms it needs (threshold, morphology, contours, resize, flips, connected components) on the
/// Mats, and copies the result out here; row spans let per-pixel loops run without allocation or interop calls.
/// Encoded files (PNG, JPEG, TIFF) go through <see cref="ImageIO"/>.
/// </summary>
internal static class MatRows
{
    /// <summary>Row <paramref name="y"/> of an image: Cols x element-size bytes.</summary>
    public static unsafe Span<byte> Row(Mat mat, int y) => new((void*)mat.Ptr(y), mat.Cols * mat.ElemSize());

    /// <summary>Row <paramref name="y"/> of a 32-bit integer single-channel image.</summary>
    public static unsafe Span<int> IntRow(Mat mat, int y) => new((void*)mat.Ptr(y), mat.Cols * mat.Channels());

    /// <summary>Wraps an RGBA image's pixels as a CV_8UC4 header (no copy; the image must outlive the Mat).</summary>
    public static Mat WrapRgba(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC4, image.Pixels);
    }

    /// <summary>Wraps a packed 8-bit single-channel buffer as a CV_8UC1 header (no copy).</summary>
    public static Mat WrapGray(byte[] pixels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return Mat.FromPixelData(height, width, MatType.CV_8UC1, pixels);
    }

    /// <summary>Wraps a matrix of doubles as a CV_64FC1 header (no copy), for OpenCV's linear algebra.</summary>
    public static Mat WrapMatrix(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Mat.FromPixelData(values.GetLength(0), values.GetLength(1), MatType.CV_64FC1, values);
    }

    /// <summary>A new 3-channel RGB image of <paramref name="image"/> (alpha dropped).</summary>
    public static Mat ToRgb(RgbaImage image) => Converted(image, ColorConversionCodes.RGBA2RGB);

    /// <summary>A new 3-channel BGR image of <paramref name="image"/> (alpha dropped), OpenCV's channel order for encoders.</summary>
    public static Mat ToBgr(RgbaImage image) => Converted(image, ColorConversionCodes.RGBA2BGR);

    /// <summary>A new 4-channel BGRA image of <paramref name="image"/>.</summary>
    public static Mat ToBgra(RgbaImage image) => Converted(image, ColorConversionCodes.RGBA2BGRA);

    private static Mat Converted(RgbaImage image, ColorConversionCodes code)
    {
        using var rgba = WrapRgba(image);
        var converted = new Mat();
        Cv2.CvtColor(rgba, converted, code);
        return converted;
    }

    /// <summary>Copies a CV_8UC4 Mat in RGBA order (an image wrapped by <see cref="WrapRgba"/> after OpenCV worked on it) into a new image.</summary>
    public static RgbaImage ToImage(Mat rgba)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (rgba.Type() != MatType.CV_8UC4)
        {
            throw new ArgumentException($"expected an 8-bit 4-channel image, got {rgba.Type()}", nameof(rgba));
        }

        var image = new RgbaImage(rgba.Cols, rgba.Rows);
        CopyTo(rgba, image.Pixels);
        return image;
    }

    /// <summary>The bytes of an 8-bit Mat, rows packed (Cols x Channels bytes each).</summary>
    public static byte[] ToBytes(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Depth() != MatType.CV_8U)
        {
            throw new ArgumentException($"expected an 8-bit image, got {mat.Type()}", nameof(mat));
        }

        var bytes = new byte[(long)mat.Rows * mat.Cols * mat.Channels()];
        CopyTo(mat, bytes);
        return bytes;
    }

    /// <summary>The values of a 32-bit float Mat, rows packed (Cols x Channels values each).</summary>
    public static float[] ToFloats(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Depth() != MatType.CV_32F)
        {
            throw new ArgumentException($"expected a 32-bit float image, got {mat.Type()}", nameof(mat));
        }

        int rowValues = mat.Cols * mat.Channels();
        var values = new float[(long)mat.Rows * rowValues];
        int rows = mat.Rows;
        for (int y = 0; y < rows; y++)
        {
            MemoryMarshal.Cast<byte, float>(Row(mat, y)).CopyTo(values.AsSpan(y * rowValues, rowValues));
        }

        return values;
    }

    /// <summary>Copies a continuous or strided Mat into a packed byte array (Cols x element-size bytes per row).</summary>
    public static unsafe void CopyTo(Mat mat, byte[] destination)
    {
        ArgumentNullException.ThrowIfNull(mat);
        ArgumentNullException.ThrowIfNull(destination);
        int rowBytes = mat.Cols * mat.ElemSize();
        int matRows = mat.Rows;
        if (mat.IsContinuous())
        {
            new ReadOnlySpan<byte>((void*)mat.Data, checked(rowBytes * matRows)).CopyTo(destination);
            return;
        }

        for (int y = 0; y < matRows; y++)
        {
            Row(mat, y).CopyTo(destination.AsSpan(y * rowBytes, rowBytes));
        }
    }
}
