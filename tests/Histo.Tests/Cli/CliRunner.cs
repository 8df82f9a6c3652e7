using System.Diagnostics;

namespace Histo.Tests.Cli;

/// <summary>Runs the real <c>histo</c> program (the built Histo.Cli.dll) as a child process.</summary>
public static class CliRunner
{
    /// <summary>The result of one run.</summary>
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>Runs histo with the given arguments, failing the test if it does not end within the time limit.</summary>
    public static Result Run(params string[] args) => RunWithTimeout(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs histo with a time limit.</summary>
    public static Result RunWithTimeout(TimeSpan timeout, params string[] args) => RunWithEnvironment(timeout, null, args);

    /// <summary>Runs histo with a time limit and extra environment variables.</summary>
    public static Result RunWithEnvironment(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        const string tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        if (File.Exists(tcmalloc))
        {
            start.Environment["LD_PRELOAD"] = tcmalloc;
        }

        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"histo {string.Join(' ', args)} did not finish within {timeout}");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Asserts a failed run: exit code not 0, exactly one stderr line starting "error:", no stack trace.</summary>
    public static void AssertOneLineError(Result result, string? contains = null)
    {
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one stderr line, got:\n" + result.StdErr);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdErr, StringComparison.Ordinal);
        if (contains != null)
        {
            Assert.Contains(contains, lines[0], StringComparison.OrdinalIgnoreCase);
        }
    }
}
