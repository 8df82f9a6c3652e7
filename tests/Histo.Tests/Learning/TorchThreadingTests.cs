using Histo.Learning;
using Histo.Learning.Models;

namespace Histo.Tests.Learning;

public sealed class TorchThreadingTests
{
    [Fact]
    public void CreatingTheNetworkLeavesAnOpenMpWaitPolicyInTheNativeEnvironmentAndNeverOverwritesIt()
    {
        string? before = Environment.GetEnvironmentVariable(TorchThreading.WaitPolicyVariable);
        using var network = new ResNet18Variant(2);
        string? policy = TorchThreading.CurrentWaitPolicy();

        // PASSIVE from the network's static constructor, or whatever the process was started with.
        Assert.Equal(before ?? "PASSIVE", policy);
        Assert.False(TorchThreading.PreferPassiveWait());
        Assert.Equal(policy, TorchThreading.CurrentWaitPolicy());
    }
}
