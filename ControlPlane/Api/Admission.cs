using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>Why a submission is refused: which limit, the count that reached it, and when to try again.</summary>
/// <param name="Setting">The setting that refused it: <c>Scheduler:MaxPending</c> or <c>Scheduler:MaxPendingPerGroup</c>.</param>
/// <param name="Group">The job's FIFO group, for the per-group limit.</param>
/// <param name="Pending">The pending count the leader published (all jobs, or the group's).</param>
/// <param name="Limit">The configured limit.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> to answer with.</param>
internal sealed record AdmissionRefusal(string Setting, string? Group, int Pending, int Limit, int RetryAfterSeconds)
{
    /// <summary>The metric tag: <c>pending</c> or <c>group</c>.</summary>
    public string Kind => Group is null ? "pending" : "group";
}

/// <summary>
/// The admission rule, a pure function of the published queue status and the options, so every case has a unit test
/// without a store. The status is the current leader's or null (no leader, no record yet, a predecessor's record):
/// without counts nothing is refused, so submissions never depend on the leader being there.
/// </summary>
internal static class Admission
{
    /// <summary>The longest <c>Retry-After</c> unless the publish interval itself is longer.</summary>
    public const int MaxRetryAfterSeconds = 5;

    /// <summary>The refusal for a job of <paramref name="group"/> given <paramref name="status"/>, or null to admit it.</summary>
    public static AdmissionRefusal? Check(QueueStatusRecord? status, string? group, AdmissionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (status is null)
        {
            return null;
        }

        if (options.MaxPending > 0 && status.Pending >= options.MaxPending)
        {
            return new AdmissionRefusal(
                $"{AdmissionOptions.Section}:{nameof(AdmissionOptions.MaxPending)}", null, status.Pending, options.MaxPending,
                RetryAfterSeconds(status.Pending, options.MaxPending, options.QueueStatusInterval));
        }

        if (group is not null && options.MaxPendingPerGroup > 0 && status.Groups.TryGetValue(group, out var inGroup) && inGroup >= options.MaxPendingPerGroup)
        {
            return new AdmissionRefusal(
                $"{AdmissionOptions.Section}:{nameof(AdmissionOptions.MaxPendingPerGroup)}", group, inGroup, options.MaxPendingPerGroup,
                RetryAfterSeconds(inGroup, options.MaxPendingPerGroup, options.QueueStatusInterval));
        }

        return null;
    }

    /// <summary>
    /// Seconds a refused client should wait. Never less than the publish interval (rounded up, at least 1 s): the
    /// count cannot change before the leader publishes again. Then one second more for every 5 % of the limit the
    /// count is over it, as a deeper queue takes longer to drain, up to <see cref="MaxRetryAfterSeconds"/>, so clients
    /// come back soon after the queue has room: a refusal costs the director no store request.
    /// </summary>
    public static int RetryAfterSeconds(int pending, int limit, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var least = (int)Math.Max(1, Math.Ceiling(interval.TotalSeconds));
        var over = Math.Max(0L, (long)pending - limit);
        var extra = (int)Math.Min(MaxRetryAfterSeconds, over * 20 / limit);
        return Math.Min(least + extra, Math.Max(least, MaxRetryAfterSeconds));
    }
}
