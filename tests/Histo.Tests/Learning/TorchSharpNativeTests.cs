using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Tests.Learning;

public sealed class TorchSharpNativeTests
{
    private const string OriginalSha256 = "cf33b1b0bb6bbb9754a768fb5c5d04d9f498603be50e73f55621a0b40ee608b8";
    private const string PatchedSha256 = "5968efac8270eff8a2b5ca7381612ea9cc54d81cf4104a54e0e6106b7b5f11e3";

    [Fact]
    public void TensorOperationRunsInTheNativeLibrary()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor a = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3);

        Tensor product = a.matmul(a.t());

        Assert.Equal([5f, 14f, 14f, 50f], product.data<float>().ToArray());
    }

    [Fact]
    public void OutputLibraryIsPatchedExactlyWhenTheSystemLibStdCxxNeedsIt()
    {
        string library = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        const string systemLibStdCxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        Assert.True(File.Exists(library), $"{library} is missing.");
        Assert.True(File.Exists(systemLibStdCxx), $"{systemLibStdCxx} is missing.");
        bool systemHasVersion = File.ReadAllBytes(systemLibStdCxx).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0;

        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(library)));

        Assert.Equal(systemHasVersion ? OriginalSha256 : PatchedSha256, hash);
    }
}
