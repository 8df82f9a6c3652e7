using System.Runtime.InteropServices;

namespace Histo.Native;

/// <summary>
/// The one place that declares libc functions. <c>statx</c> is used because its buffer has the same layout on every
/// Linux architecture (unlike <c>struct stat</c>), and because .NET reports a FIFO, socket or device as a plain file.
/// </summary>
internal static partial class LibC
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1, StatxSize = 0x200;
    private const int StatxBufferSize = 256, ModeOffset = 28, SizeOffset = 40;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The file type bits (<c>S_IFMT</c> of <c>st_mode</c>) and size of a path, following links; errno on failure.</summary>
    internal static unsafe (int Error, int Type, long Size) Stat(string path)
    {
        byte* buffer = stackalloc byte[StatxBufferSize];
        if (Statx(AtFdCwd, path, 0, StatxType | StatxSize, buffer) != 0)
        {
            return (Marshal.GetLastPInvokeError(), 0, 0);
        }

        return (0, *(ushort*)(buffer + ModeOffset) & 0xF000, *(long*)(buffer + SizeOffset));
    }
}
