using System.Diagnostics;
using System.Globalization;

namespace Histo.Bench.Infrastructure;

/// <summary>What <see cref="PeakRss.Run"/> saw of a child process.</summary>
/// <param name="PeakRssMb">Peak resident set size in MiB (the kernel's VmHWM high-water mark).</param>
/// <param name="ExitCode">The child's exit code.</param>
/// <param name="Seconds">Wall time from start to exit.</param>
/// <param name="Stdout">Everything the child printed on stdout.</param>
/// <param name="Stderr">Everything the child printed on stderr.</param>
public sealed record ChildRun(double PeakRssMb, int ExitCode, double Seconds, string Stdout, string Stderr);

/// <summary>
/// Runs a command as a child process and measures its peak resident memory: VmHWM (the kernel's high-water mark of
/// the resident set) read from /proc/&lt;pid&gt;/status every few milliseconds while it runs. VmHWM only grows, so the
/// last reading before exit is the peak up to that moment; a child that wants its true final figure counted can also
/// print its own VmHWM (see <see cref="SelfPeakRssMb"/>) as the last thing before exiting, and the caller takes the
/// larger. Linux only.
/// </summary>
public static class PeakRss
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="args"/> and returns its peak RSS and output.</summary>
    public static ChildRun Run(string fileName, IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(args);
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string status = $"/proc/{process.Id}/status";
        long peakKb = 0;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(30));
        while (!process.WaitForExit(10))
        {
            peakKb = Math.Max(peakKb, ReadKb(status, "VmHWM:"));
            if (DateTime.UtcNow > deadline)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} did not finish in time");
            }
        }

        process.WaitForExit();
        return new ChildRun(peakKb / 1024.0, process.ExitCode, sw.Elapsed.TotalSeconds, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>This process's own peak RSS so far in MiB (VmHWM of /proc/self/status), or 0 if unavailable.</summary>
    public static double SelfPeakRssMb() => ReadKb("/proc/self/status", "VmHWM:") / 1024.0;

    /// <summary>A "Name:   1234 kB" field of a /proc status file in kB, or 0 when the file or field is gone.</summary>
    private static long ReadKb(string statusFile, string field)
    {
        try
        {
            foreach (string line in File.ReadLines(statusFile))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    string number = line[field.Length..].Trim().Split(' ')[0];
                    return long.Parse(number, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // The process exited between the poll and the read.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
