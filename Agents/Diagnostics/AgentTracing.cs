using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Agents.Diagnostics;

/// <summary>
/// The agent's spans (<see cref="Tracing.AgentSource"/>): <c>job.run</c> from the executor's start to the attempt's
/// end, a child of the context the assignment carries (the leader's placement, else the job's submission). It is
/// <see cref="Activity.Current"/> while a handler runs, so a handler's own spans nest under it; a shell job gets its
/// context as <c>TRACEPARENT</c>. Nobody listening (no tracer provider): one check, nothing allocated.
/// </summary>
internal static class AgentTracing
{
    /// <summary>The source; static, as activity sources are meant to be (listeners select them by name).</summary>
    public static readonly ActivitySource Source = new(Tracing.AgentSource, typeof(AgentTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the run span of <paramref name="record"/>'s attempt on <paramref name="workerId"/>; null when
    /// nobody listens. An unreadable <see cref="AssignmentRecord.TraceParent"/> starts a trace of its own.</summary>
    public static Activity? StartRun(AssignmentRecord record, string workerId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(record.TraceParent, null, out var parent);
        var activity = Source.StartActivity("job.run", ActivityKind.Internal, parent);
        activity?.SetTag("controlplane.job.id", record.JobId);
        activity?.SetTag("controlplane.job.attempt", record.Attempt);
        activity?.SetTag("controlplane.epoch", record.Epoch);
        activity?.SetTag("controlplane.worker.id", workerId);
        activity?.SetTag("controlplane.executor", record.Executor);
        return activity;
    }

    /// <summary>Records how the attempt ended on its span.</summary>
    public static void Ended(Activity? activity, string state, int? exitCode)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("controlplane.attempt.state", state);
        if (exitCode is { } code)
        {
            activity.SetTag("process.exit.code", code);
        }

        activity.SetStatus(state == nameof(AttemptState.Succeeded) ? ActivityStatusCode.Ok : ActivityStatusCode.Error, state == nameof(AttemptState.Succeeded) ? null : state);
    }
}
