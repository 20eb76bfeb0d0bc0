namespace ControlPlane.Cli.Http;

/// <summary>No director gave an answer (connection refused, DNS, reset, timeout), or the one that may have received a
/// request that must not be sent twice did not answer: the command fails with <see cref="ExitCodes.Unreachable"/>.</summary>
internal sealed class DirectorsUnreachableException : Exception
{
    /// <summary>Creates the exception with the message cpctl prints.</summary>
    /// <param name="message">What was tried and what happened, for a person.</param>
    /// <param name="inner">The last transport failure.</param>
    public DirectorsUnreachableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
