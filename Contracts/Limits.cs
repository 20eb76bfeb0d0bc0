namespace ControlPlane.Contracts;

/// <summary>
/// Bounds on what a job may carry. They keep every record far below ZooKeeper's 1 MiB packet limit and let the
/// leader batch dozens of assignments into one transaction (768 KiB).
/// </summary>
public static class Limits
{
    /// <summary>Largest accepted request body, in bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Longest job name, in characters.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Longest executor or handler name, in characters.</summary>
    public const int MaxExecutorLength = 64;

    /// <summary>Most argv elements of a shell job.</summary>
    public const int MaxCommandArgs = 256;

    /// <summary>Longest single argv element, in characters.</summary>
    public const int MaxArgLength = 4096;

    /// <summary>Most environment variables or constraints of a job.</summary>
    public const int MaxMapEntries = 64;

    /// <summary>Longest environment/constraint/label key, in characters.</summary>
    public const int MaxMapKeyLength = 128;

    /// <summary>Longest environment/constraint/label value, in characters.</summary>
    public const int MaxMapValueLength = 4096;

    /// <summary>Largest serialized <c>args</c> payload, in bytes.</summary>
    public const int MaxArgsBytes = 32 * 1024;

    /// <summary>Longest FIFO group name, in characters.</summary>
    public const int MaxGroupLength = 128;

    /// <summary>Most slots one job may take.</summary>
    public const int MaxSlots = 1024;

    /// <summary>Most attempts a job may ask for.</summary>
    public const int MaxAttempts = 100;

    /// <summary>Longest job timeout, in seconds (7 days).</summary>
    public const int MaxTimeoutSeconds = 7 * 24 * 3600;

    /// <summary>Longest Idempotency-Key header value, in characters.</summary>
    public const int MaxIdempotencyKeyLength = 256;

    /// <summary>Bytes of combined stdout/stderr kept as a job's output tail.</summary>
    public const int OutputTailBytes = 4096;

    /// <summary>Longest error message stored with a result, in characters.</summary>
    public const int MaxErrorLength = 2048;

    /// <summary>Missed ticks a schedule with <c>catchUp: all</c> fires when it names no <c>maxCatchUp</c>.</summary>
    public const int DefaultMaxCatchUp = 100;

    /// <summary>Largest <c>maxCatchUp</c> of a schedule.</summary>
    public const int MaxCatchUp = 10_000;

    /// <summary>Largest <c>startingDeadlineSeconds</c> of a schedule (one week).</summary>
    public const int MaxStartingDeadlineSeconds = 7 * 24 * 3600;

    /// <summary>Longest cron expression, in characters.</summary>
    public const int MaxCronLength = 256;

    /// <summary>Most dependencies (<c>dependsOn</c>) of one job: a wider fan-in goes through intermediate jobs.</summary>
    public const int MaxDependencies = 1000;

    /// <summary>Longest delay (<c>delaySeconds</c>), and farthest <c>runAt</c> ahead of the accepting director's clock: one year.</summary>
    public const int MaxDelaySeconds = 366 * 24 * 3600;

    /// <summary>Most jobs of one workflow (<c>POST /v1/workflows</c>).</summary>
    public const int MaxWorkflowNodes = 10_000;

    /// <summary>Longest node <c>ref</c> of a workflow, in characters.</summary>
    public const int MaxWorkflowRefLength = 64;

    /// <summary>Largest accepted workflow body, in bytes (each node's job is bounded by <see cref="MaxBodyBytes"/> on its own).</summary>
    public const int MaxWorkflowBodyBytes = 16 * 1024 * 1024;

    /// <summary>Longest concurrency key (<c>concurrency.key</c>), in characters.</summary>
    public const int MaxConcurrencyKeyLength = 200;

    /// <summary>Largest concurrency limit (<c>concurrency.limit</c>).</summary>
    public const int MaxConcurrencyLimit = 100_000;
}
