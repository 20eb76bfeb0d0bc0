namespace ControlPlane.Cli;

/// <summary>
/// Process exit codes of cpctl. They are part of its interface (scripts branch on them), so a value is
/// never reused for another meaning; docs/cpctl.md lists them.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked (for <c>wait</c>: every job Succeeded).</summary>
    public const int Success = 0;

    /// <summary>The API answered with an error (4xx/5xx), or with a body cpctl could not read.</summary>
    public const int RequestFailed = 1;

    /// <summary><c>doctor</c>: at least one check warns, none fails (same value as <see cref="RequestFailed"/>: the
    /// issue asked for 0/1/2; scripts tell the two apart by stdout, which a failed request leaves empty).</summary>
    public const int DoctorWarn = 1;

    /// <summary><c>doctor</c>: at least one check fails (same value as <see cref="Usage"/>, see <see cref="DoctorWarn"/>).</summary>
    public const int DoctorFail = 2;

    /// <summary>The command line is wrong: unknown option, missing argument, bad value.</summary>
    public const int Usage = 2;

    /// <summary><c>wait</c> (or <c>submit --wait</c>, <c>workflow submit --wait</c>) saw every job finish, but not all of them Succeeded.</summary>
    public const int NotSucceeded = 3;

    /// <summary>No answer from the director: connection refused, DNS failure, request timeout.</summary>
    public const int Unreachable = 4;

    /// <summary><c>wait</c> gave up at its <c>--timeout</c> (or a <c>--wait</c> at its <c>--wait-timeout</c>) before every job finished.</summary>
    public const int WaitTimedOut = 5;

    /// <summary>The director refused with 429 (too many pending jobs) and kept refusing for as long as cpctl retried:
    /// nothing was created; try again later. Apart from 1 so scripts can back off instead of failing.</summary>
    public const int Busy = 6;

    /// <summary>Interrupted (Ctrl-C), as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}
