using System.ComponentModel;
using System.Net;
using System.Runtime.InteropServices;
using Histo.Cli.Settings;
using Histo.Viewer;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo serve SLIDES_FOLDER [--predictions OUT] [--port 8080] [--host 127.0.0.1]</c>.</summary>
public sealed class ServeCommand : Command<ServeCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<SLIDES_FOLDER>")]
        [Description("Folder of slides to serve (subfolders included), with any ground truth beside them (A01.xml, A01-window-labels.png). Nothing outside it is reachable.")]
        public string SlidesFolder { get; set; } = "";

        [CommandOption("--predictions <OUT>")]
        [Description("Output folder of `histo slide` (OUT/<slide name>/heatmap-layer.png, classmap.png, geometry.json, patches.csv, ...) to overlay.")]
        public string? Predictions { get; set; }

        [CommandOption("--port <PORT>")]
        [Description("TCP port (default 8080; 0 picks a free one).")]
        public int Port { get; set; } = 8080;

        [CommandOption("--host <ADDRESS>")]
        [Description("Address to listen on (default 127.0.0.1: this machine only). 0.0.0.0 exposes the slides to the network.")]
        public string Host { get; set; } = "127.0.0.1";

        public override ValidationResult Validate()
        {
            if (!Directory.Exists(SlidesFolder))
            {
                return ValidationResult.Error(File.Exists(SlidesFolder)
                    ? $"'{SlidesFolder}' is a file; give the folder that holds the slides"
                    : $"slides folder '{SlidesFolder}' does not exist");
            }

            if (Predictions != null && !Directory.Exists(Predictions))
            {
                return ValidationResult.Error($"--predictions folder '{Predictions}' does not exist");
            }

            if (Port is < 0 or > 65535)
            {
                return ValidationResult.Error($"--port must be between 0 and 65535, got {Port}");
            }

            if (!string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Host, out _))
            {
                return ValidationResult.Error($"--host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, got '{Host}'");
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        var options = new ViewerOptions
        {
            SlidesFolder = settings.SlidesFolder,
            PredictionsFolder = settings.Predictions,
            Port = settings.Port,
            Host = settings.Host,
        };
        return Run(options, stop.Token).GetAwaiter().GetResult();
    }

    private static async Task<int> Run(ViewerOptions options, CancellationToken stop)
    {
        var server = await ViewerServer.StartAsync(options, CancellationToken.None).ConfigureAwait(false);
        await using (server.ConfigureAwait(false))
        {
            Terminal.OutLine($"Histo viewer: {server.Address}  (slides: {Path.GetFullPath(options.SlidesFolder)}"
                + (options.PredictionsFolder != null ? $", predictions: {Path.GetFullPath(options.PredictionsFolder)}" : "") + ")");
            Terminal.OutLine("Press Ctrl-C to stop.");
            Console.Out.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C or SIGTERM: a normal way to stop the server.
            }
        }

        Terminal.ErrorLine("stopped");
        return 0;
    }
}
