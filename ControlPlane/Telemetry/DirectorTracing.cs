using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Telemetry;

/// <summary>
/// The director's spans (<see cref="Tracing.DirectorSource"/>): <c>job.submit</c> around a submission, whose context the
/// job record keeps, and <c>job.place</c> for each placement the leader plans, whose context the assignment carries to
/// the agent. With nobody listening to the source (no tracer provider configured) each costs one check and nothing is
/// allocated: placements then hand the job's own context on, so a traced agent still joins the job's trace.
/// </summary>
internal static class DirectorTracing
{
    /// <summary>The source; static, as activity sources are meant to be (listeners select them by name).</summary>
    public static readonly ActivitySource Source = new(Tracing.DirectorSource, typeof(DirectorTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the span of one submission; null when nobody listens.</summary>
    public static Activity? StartSubmit(string? idempotencyKey)
    {
        var activity = Source.StartActivity("job.submit", ActivityKind.Internal);
        activity?.SetTag("controlplane.idempotency_key.present", idempotencyKey is not null);
        return activity;
    }

    /// <summary>The W3C <c>traceparent</c> a new job records: the submission's span when traced, else the caller's
    /// (an incoming <c>traceparent</c> the host turned into <see cref="Activity.Current"/>); null otherwise.</summary>
    public static string? TraceParentOf(Activity? activity) =>
        (activity ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Records the placement of <paramref name="job"/>'s current attempt on <paramref name="workerId"/> as a span in
    /// the job's trace and returns the context the assignment carries. Without listeners (or without a job trace) the
    /// job's own <see cref="JobRecord.TraceParent"/> is returned unchanged. A point in time, not a duration: the
    /// commit that makes the placement real is the pass's, shared by many placements.
    /// </summary>
    public static string? Placement(JobRecord job, string workerId, long epoch)
    {
        if (job.TraceParent is not { } parent || !Source.HasListeners() || !ActivityContext.TryParse(parent, null, out var context))
        {
            return job.TraceParent;
        }

        using var activity = Source.StartActivity("job.place", ActivityKind.Internal, context);
        if (activity is null)
        {
            return job.TraceParent;
        }

        activity.SetTag("controlplane.job.id", job.Id);
        activity.SetTag("controlplane.job.attempt", job.Attempt);
        activity.SetTag("controlplane.worker.id", workerId);
        activity.SetTag("controlplane.epoch", epoch);
        return activity.Id;
    }
}
