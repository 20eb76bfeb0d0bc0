namespace ControlPlane.Cli;

/// <summary>A value the parser accepted but the command cannot use (e.g. <c>--env</c> without <c>=</c>): exit code 2.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> is printed as is.</summary>
    public UsageException(string message)
        : base(message)
    {
    }
}
