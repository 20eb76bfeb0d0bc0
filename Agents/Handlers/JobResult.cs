namespace ControlPlane.Agents;

/// <summary>What an attempt produced: exit code 0 is success, anything else a failure.</summary>
/// <param name="ExitCode">0 for success.</param>
/// <param name="Output">Output kept with the result; only its last 4 KiB (UTF-8) are stored.</param>
/// <param name="Error">Why it failed, for people; cut to 2048 characters.</param>
public sealed record JobResult(int ExitCode, string? Output = null, string? Error = null)
{
    /// <summary>A success (exit code 0) with optional output.</summary>
    public static JobResult Success(string? output = null) => new(0, output);

    /// <summary>A failure with an error message and a non-zero exit code (default 1).</summary>
    public static JobResult Failure(string error, int exitCode = 1, string? output = null) =>
        new(exitCode == 0 ? 1 : exitCode, output, error);
}
