using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Patches;

/// <summary>The 8 symmetries of a square (the dihedral group D4): rotations by multiples of 90° and the flips.</summary>
public enum DihedralTransform
{
    /// <summary>No change.</summary>
    Identity,

    /// <summary>Rotate 90° clockwise.</summary>
    Rotate90,

    /// <summary>Rotate 180°.</summary>
    Rotate180,

    /// <summary>Rotate 270° clockwise (90° counter-clockwise).</summary>
    Rotate270,

    /// <summary>Mirror left-right.</summary>
    FlipHorizontal,

    /// <summary>Mirror top-bottom.</summary>
    FlipVertical,

    /// <summary>Mirror about the main diagonal: (x, y) to (y, x).</summary>
    Transpose,

    /// <summary>Mirror about the anti-diagonal.</summary>
    AntiTranspose,
}

/// <summary>Applies, composes and inverts <see cref="DihedralTransform"/>s.</summary>
public static class Dihedral
{
    /// <summary>All 8 transforms.</summary>
    public static IReadOnlyList<DihedralTransform> All { get; } = Enum.GetValues<DihedralTransform>();

    // Each transform as a 2x2 integer matrix (a, b, c, d) acting on centred coordinates (x right, y down):
    // (x', y') = (a x + b y, c x + d y).
    private static readonly (int A, int B, int C, int D)[] Matrices =
    [
        (1, 0, 0, 1),   // Identity
        (0, -1, 1, 0),  // Rotate90 clockwise: (x, y) -> (-y, x)
        (-1, 0, 0, -1), // Rotate180
        (0, 1, -1, 0),  // Rotate270: (x, y) -> (y, -x)
        (-1, 0, 0, 1),  // FlipHorizontal
        (1, 0, 0, -1),  // FlipVertical
        (0, 1, 1, 0),   // Transpose
        (0, -1, -1, 0), // AntiTranspose
    ];

    /// <summary>The transform equal to applying <paramref name="first"/> and then <paramref name="second"/>.</summary>
    public static DihedralTransform Compose(DihedralTransform first, DihedralTransform second)
    {
        var (a1, b1, c1, d1) = Matrices[(int)first];
        var (a2, b2, c2, d2) = Matrices[(int)second];
        var product = (a2 * a1 + b2 * c1, a2 * b1 + b2 * d1, c2 * a1 + d2 * c1, c2 * b1 + d2 * d1);
        return (DihedralTransform)Array.IndexOf(Matrices, product);
    }

    /// <summary>The transform that undoes <paramref name="transform"/>.</summary>
    public static DihedralTransform Inverse(DihedralTransform transform)
    {
        var (a, b, c, d) = Matrices[(int)transform];
        return (DihedralTransform)Array.IndexOf(Matrices, (a, c, b, d)); // orthogonal: inverse = transpose
    }

    /// <summary>Returns a transformed copy (width and height swap for 90°/270° rotations and the diagonal flips).</summary>
    public static RgbaImage Apply(RgbaImage image, DihedralTransform transform)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var src = MatRows.WrapRgba(image);
        using var dst = new Mat();
        switch (transform)
        {
            case DihedralTransform.Identity: src.CopyTo(dst); break;
            case DihedralTransform.Rotate90: Cv2.Rotate(src, dst, RotateFlags.Rotate90Clockwise); break;
            case DihedralTransform.Rotate180: Cv2.Rotate(src, dst, RotateFlags.Rotate180); break;
            case DihedralTransform.Rotate270: Cv2.Rotate(src, dst, RotateFlags.Rotate90Counterclockwise); break;
            case DihedralTransform.FlipHorizontal: Cv2.Flip(src, dst, FlipMode.Y); break;
            case DihedralTransform.FlipVertical: Cv2.Flip(src, dst, FlipMode.X); break;
            case DihedralTransform.Transpose: Cv2.Transpose(src, dst); break;
            case DihedralTransform.AntiTranspose:
                using (var t = new Mat())
                {
                    Cv2.Transpose(src, t);
                    Cv2.Rotate(t, dst, RotateFlags.Rotate180);
                }

                break;
            default: throw new InvalidParameterException($"unknown dihedral transform {(int)transform}");
        }

        return MatRows.ToImage(dst);
    }
}
