using FoldCluster.Cli.Infrastructure;

return CliHost.Run(args);
