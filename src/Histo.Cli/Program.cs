using Histo.Cli;

return HistoCli.Run(args);
