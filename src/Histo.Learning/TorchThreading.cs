using System.Runtime.InteropServices;

namespace Histo.Learning;

/// <summary>
/// Threading settings for libtorch's OpenMP runtime (libgomp), which reads them from the process environment once,
/// when TorchSharp first loads libtorch.
/// </summary>
public static partial class TorchThreading
{
    /// <summary>The variable that selects how idle OpenMP threads wait.</summary>
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native process environment unless it is already set: idle threads
    /// sleep instead of spinning. On a machine shared with other work, spinning threads steal the cores the working
    /// ones need (measured here: ResNet18 at 64 px ran 3-8x faster under load); on an idle machine the cost is a few
    /// microseconds per operator. Takes effect only if called before TorchSharp's first call; <see cref="Models.ResNet18Variant"/>
    /// calls it from its static constructor, hosts can call it earlier.
    /// </summary>
    /// <returns>True if the variable was set by this call, false if it was already set.</returns>
    public static bool PreferPassiveWait()
    {
        if (!OperatingSystem.IsLinux() || NativeMethods.getenv(WaitPolicyVariable) != IntPtr.Zero)
        {
            return false;
        }

        return NativeMethods.setenv(WaitPolicyVariable, "PASSIVE", 0) == 0;
    }

    /// <summary>
    /// <c>OMP_WAIT_POLICY</c> as the native process environment holds it now (what libgomp will read if it has not
    /// started yet), or null; .NET's <see cref="Environment.GetEnvironmentVariable(string)"/> does not see native changes.
    /// </summary>
    public static string? CurrentWaitPolicy()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Environment.GetEnvironmentVariable(WaitPolicyVariable);
        }

        IntPtr value = NativeMethods.getenv(WaitPolicyVariable);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial IntPtr getenv(string name);

        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);
    }
}
