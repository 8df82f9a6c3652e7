using System.Runtime.CompilerServices;

namespace Histo.Tests;

/// <summary>Orders the native libraries before any test can touch OpenCV directly (see Histo.Native.NativeLoadOrder).</summary>
internal static class NativeLoadOrderInit
{
    [ModuleInitializer]
    internal static void Initialize() => Histo.Native.NativeLoadOrder.LoadOpenSlideFirst();
}
