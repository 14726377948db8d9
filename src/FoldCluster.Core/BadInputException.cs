namespace FoldCluster.Core;

/// <summary>
/// Input that cannot succeed on retry (a malformed corpus file, a wrong spec, an unknown method,
/// missing weights). The CLI maps it to exit code 2; the cluster fails the job at once with the message.
/// </summary>
public class BadInputException : Exception
{
    public BadInputException(string message) : base(message) { }

    public BadInputException(string message, Exception inner) : base(message, inner) { }
}
