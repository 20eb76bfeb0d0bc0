namespace ControlPlane.Contracts;

/// <summary>
/// The names under which the control plane reports traces (docs/observability.md): subscribe to them in an
/// OpenTelemetry tracer provider (<c>AddSource</c>) or an <see cref="System.Diagnostics.ActivityListener"/>. A job's
/// trace is <c>job.submit</c> (director) → <c>job.place</c> (leader, one per attempt) → <c>job.run</c> (agent), and the
/// job's own process continues it through <c>TRACEPARENT</c>.
/// </summary>
public static class Tracing
{
    /// <summary>The directors' activity source: the API's job submissions and the leader's placements.</summary>
    public const string DirectorSource = "ControlPlane.Director";

    /// <summary>The agents' activity source: one span per attempt run.</summary>
    public const string AgentSource = "ControlPlane.Agent";

    /// <summary>The environment variable a shell job finds its attempt's W3C trace context in (the OpenTelemetry
    /// convention for passing context to a child process).</summary>
    public const string TraceParentVariable = "TRACEPARENT";

    /// <summary>The trace id (32 hex digits) of a W3C <c>traceparent</c> (<c>00-&lt;trace id&gt;-&lt;span id&gt;-&lt;flags&gt;</c>);
    /// null when <paramref name="traceParent"/> is null or not one.</summary>
    public static string? TraceIdOf(string? traceParent) =>
        traceParent is { Length: 55 } && traceParent[2] == '-' && traceParent[35] == '-' && traceParent[52] == '-'
            ? traceParent.Substring(3, 32)
            : null;
}
