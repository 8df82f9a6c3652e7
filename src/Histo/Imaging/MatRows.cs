using OpenCvSharp;

namespace Histo.Imaging;

/// <summary>Row access to OpenCV 8-bit images as spans, so per-pixel loops run without allocation or interop calls.</summary>
internal static class MatRows
{
    /// <summary>Row <paramref name="y"/> of an 8-bit image: Cols x Channels bytes.</summary>
    public static unsafe Span<byte> Row(Mat mat, int y) => new((void*)mat.Ptr(y), mat.Cols * mat.ElemSize());

    /// <summary>Row <paramref name="y"/> of a 32-bit integer single-channel image.</summary>
    public static unsafe Span<int> IntRow(Mat mat, int y) => new((void*)mat.Ptr(y), mat.Cols * mat.Channels());

    /// <summary>Wraps an RGBA image's pixels as a CV_8UC4 header (no copy; the image must outlive the Mat).</summary>
    public static Mat WrapRgba(RgbaImage image) => Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC4, image.Pixels);

    /// <summary>Wraps a byte buffer as a CV_8UC1 header (no copy).</summary>
    public static Mat WrapGray(byte[] pixels, int width, int height) => Mat.FromPixelData(height, width, MatType.CV_8UC1, pixels);

    /// <summary>Copies a continuous or strided 8-bit Mat into a packed byte array.</summary>
    public static void CopyTo(Mat mat, byte[] destination)
    {
        int rowBytes = mat.Cols * mat.ElemSize();
        int matRows = mat.Rows;
        for (int y = 0; y < matRows; y++)
        {
            Row(mat, y).CopyTo(destination.AsSpan(y * rowBytes, rowBytes));
        }
    }
}
