namespace ControlPlane.Client;

/// <summary>
/// Where the directors are, as whom to call them, and how long to wait and retry. Bound with the options pattern by
/// <see cref="ControlPlaneClientServiceCollectionExtensions.AddControlPlaneClient"/> and validated when the client is
/// first resolved (and at host start-up, through <c>ValidateOnStart</c>); an invalid value fails with
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming every bad setting.
/// </summary>
public sealed class ControlPlaneClientOptions
{
    /// <summary>The configuration section the options are usually bound from.</summary>
    public const string Section = "ControlPlane";

    /// <summary>
    /// Base URLs of the directors, in the order to try them, e.g. <c>http://127.0.0.1:5080</c>; a path prefix (a reverse
    /// proxy's) is kept. Any director serves every request, so one is enough and more only add failover.
    /// <value>Empty: at least one is required.</value>
    /// </summary>
    public IList<Uri> Directors { get; } = [];

    /// <summary>Bearer token sent with every request; null to send none (an open API). Never logged.
    /// <value>null.</value></summary>
    public string? Token { get; set; }

    /// <summary>
    /// How long one director has to answer one request before the next is tried. A request that timed out may have
    /// reached the director, so only requests that are safe to repeat go on to the next one (see
    /// <see cref="ControlPlaneClient"/>). <value>30 seconds.</value>
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most retries of one call after every director was tried and the call may be repeated (a 429 or 503 answer, or
    /// no director reachable). 0 turns retries off; failover between directors still happens. <value>3.</value>
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First wait between retries when the director sent no <c>Retry-After</c>; it doubles with each retry,
    /// with jitter. <value>500 milliseconds.</value></summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Longest <c>Retry-After</c> the client waits out by itself. A director asking for a longer wait gets its answer
    /// passed to the caller at once (<see cref="ControlPlaneTooManyPendingException.RetryAfter"/> says how long), rather
    /// than a call that hangs. <value>10 seconds.</value>
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often <see cref="ControlPlaneClient.WatchJobAsync"/> reads the job while waiting.
    /// <value>500 milliseconds.</value></summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Called after each director's part in a call (it answered, failed, or was passed over), in order, on the calling
    /// thread: for a program that says which director answered (cpctl's <c>-v</c>) or counts failovers. It must be quick
    /// and must not throw (an exception ends the call with it). Forward it to an <c>ILogger</c> if you want logs.
    /// <value>null: nothing is called.</value>
    /// </summary>
    public Action<DirectorAttempt>? OnDirectorAttempt { get; set; }
}
