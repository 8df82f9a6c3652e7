using Histo.Learning.Models;
using Microsoft.ML.OnnxRuntime;

namespace Histo.Tests.Learning;

/// <summary>The pretrained network and an ONNX Runtime session on the same file, shared by the tests of a class.</summary>
public sealed class ResNet18Fixture : IDisposable
{
    public ResNet18Fixture()
    {
        Network = ResNet18OnnxImporter.Load();
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        Session = new InferenceSession(ResNet18OnnxImporter.DefaultModelPath, options);
    }

    public ResNet18Variant Network { get; }

    public InferenceSession Session { get; }

    public void Dispose()
    {
        Network.Dispose();
        Session.Dispose();
    }
}
