using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace FoldCluster.Cluster.Hosting;

/// <summary>Akka's own log events go to stderr, so stdout stays free for machine-readable output.</summary>
public sealed class StderrLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(
            $"{e.Timestamp:HH:mm:ss.fff} akka {e.LogLevel().ToString().Replace("Level", "", StringComparison.Ordinal).ToLowerInvariant()}: {e.LogSource}: {e.Message}"));
    }
}
