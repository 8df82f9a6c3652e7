using System.Text.Json.Nodes;

namespace Histo.Models;

/// <summary>
/// The engine that actually ran a network, as outputs record it: after the start-up self-check, which may have
/// replaced the requested engine by a correct one.
/// </summary>
/// <param name="Name">The engine, e.g. <c>fused-fp32</c>, <c>fused-bf16</c>, <c>onnxruntime-fp32</c>,
/// <c>plain-channels-last-fp32</c>, <c>plain-nchw-fp32</c>.</param>
/// <param name="Replaced">The requested engine that failed its self-check on this machine, or null when it passed.</param>
public sealed record EngineUsage(string Name, string? Replaced = null)
{
    /// <summary>Whether the self-check replaced the requested engine.</summary>
    public bool IsFallback => Replaced is not null;

    /// <summary><c>{"name": ..., "fallback": true|false, "replaced": ...|null}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["fallback"] = IsFallback,
        ["replaced"] = Replaced,
    };
}
