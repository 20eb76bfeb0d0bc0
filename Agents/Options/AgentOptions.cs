using ControlPlane.Contracts;

namespace ControlPlane.Agents;

/// <summary>
/// The <c>Agent:*</c> configuration section: who the worker is, how much it runs at once and its timing.
/// Validated when the host starts; a bad value stops the start with a message naming the setting.
/// </summary>
public sealed class AgentOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Agent";

    /// <summary>Worker id, a store key segment (<c>[A-Za-z0-9._:@-]</c>, at most 128 characters). Configure it to
    /// keep the id across restarts; a restarted agent then waits until the store has expired its previous
    /// incarnation's registration. <value><c>&lt;host&gt;-&lt;8 hex digits&gt;</c>, new on every start.</value></summary>
    public string? Id { get; set; }

    /// <summary>The cell the worker belongs to (docs/cells.md): <c>[a-z0-9-]{1,32}</c>. The agent registers and takes
    /// assignments only in that cell's keys (<c>cells/&lt;cell&gt;/</c>; the store's root for <c>default</c>), and only
    /// that cell's leader assigns it jobs. <value><c>default</c>.</value></summary>
    public string Cell { get; set; } = Cells.Default;

    /// <summary>Concurrent slots offered; an attempt holds the slots of its assignment while it runs.
    /// <value><see cref="Environment.ProcessorCount"/>.</value></summary>
    public int Slots { get; set; } = Environment.ProcessorCount;

    /// <summary>Labels that jobs' constraints are matched against (<c>Agent:Labels:&lt;name&gt;=&lt;value&gt;</c>).
    /// <value>none.</value></summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>How often the agent beats: with feature <c>workerHeartbeat</c> (the default) it updates its own
    /// registration once per interval, listing the attempts alive here; with the older <c>heartbeat</c> it writes
    /// each running attempt's <c>heartbeatAt</c> instead. The leader marks a worker suspect after three missed
    /// intervals. <value>5 s.</value></summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Self-fencing margin: when the session's provable lifetime falls below it, every running job is
    /// killed at once (docs/agent.md). Must be below the session timeout. <value>a third of the session timeout.</value></summary>
    public TimeSpan? FencingMargin { get; set; }

    /// <summary>Beat lease L (feature <c>beatFence</c>): when no registration update (beat) the agent sent within the last
    /// L, on its own clock, has been acknowledged by the store, it kills every running job at once and starts nothing
    /// until a beat is acknowledged again, even while its session lives; the leader may then run the jobs elsewhere
    /// after L and a half without a beat (docs/agent.md). At least twice <see cref="HeartbeatInterval"/>, at most 1 h.
    /// <value>the longer of 3 × <see cref="HeartbeatInterval"/> and the session timeout.</value></summary>
    public TimeSpan? BeatFence { get; set; }

    /// <summary>How long a drain lets running jobs finish before it stops them (they are reported <c>Lost</c> and
    /// run elsewhere). <value>30 s.</value></summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Protocol features to advertise, a subset of <see cref="Protocol.Features.All"/>; the agent then also
    /// behaves as one without the others (e.g. without <c>cancel</c> it lets jobs run to their end). <c>heartbeat</c>
    /// and <c>workerHeartbeat</c> exclude each other. <value>null: <see cref="Protocol.Features.Default"/> (every
    /// feature but the superseded <c>heartbeat</c>).</value></summary>
    public List<string>? Features { get; set; }

    /// <summary>File that receives one JSON line per attempt event (start, end, rejected, fenced), appended and
    /// written through at once, so several agents and processes may share it. <value>null: no file.</value></summary>
    public string? ExecutionLog { get; set; }

    /// <summary>The optional HTTP port serving <c>/metrics</c> and <c>/healthz</c> (<c>Agent:Http:*</c>, docs/agent.md).
    /// <value>off.</value></summary>
    public AgentHttpOptions Http { get; set; } = new();

    /// <summary>Fault injection for tests and drills (<c>Agent:FaultInjection:*</c>), everything off by default. Never set
    /// it on a production agent: it makes the agent misbehave on purpose.</summary>
    public AgentFaultInjection FaultInjection { get; set; } = new();

    /// <summary>The features this agent advertises and honours.</summary>
    internal IReadOnlyList<string> EffectiveFeatures =>
        Features is null ? Protocol.Features.Default : Protocol.Features.All.Where(Features.Contains).ToList();

    /// <summary>Whether <paramref name="feature"/> is advertised.</summary>
    internal bool Has(string feature) => EffectiveFeatures.Contains(feature);

    /// <summary>The fencing margin for a session of <paramref name="sessionTimeout"/>.</summary>
    internal TimeSpan EffectiveFencingMargin(TimeSpan sessionTimeout) => FencingMargin ?? sessionTimeout / 3;

    /// <summary>The beat lease for a session of <paramref name="sessionTimeout"/>, or null when the agent does not
    /// advertise <c>beatFence</c> (it needs <c>workerHeartbeat</c>).</summary>
    internal TimeSpan? EffectiveBeatFence(TimeSpan sessionTimeout) =>
        Has(Protocol.Features.BeatFence) && Has(Protocol.Features.WorkerHeartbeat)
            ? BeatFence ?? (HeartbeatInterval * 3 > sessionTimeout ? HeartbeatInterval * 3 : sessionTimeout)
            : null;
}

/// <summary>
/// The <c>Agent:Http:*</c> settings: an optional HTTP listener serving <c>GET /metrics</c> (the agent's and the store
/// client's series, Prometheus text) and <c>GET /healthz</c> (200 while the worker is registered on a live session
/// and not fenced, 503 otherwise). Off unless <see cref="Port"/> is set.
/// </summary>
public sealed class AgentHttpOptions
{
    /// <summary>TCP port, 1-65535. <value>null: no HTTP listener.</value></summary>
    public int? Port { get; set; }

    /// <summary>IP address to listen on: an address of this host, or <c>0.0.0.0</c> / <c>::</c> for every interface
    /// (needed when Prometheus scrapes by host name: the listener answers only requests addressed to
    /// <see cref="Address"/> otherwise). <value><c>127.0.0.1</c>.</value></summary>
    public string Address { get; set; } = "127.0.0.1";
}

/// <summary>
/// The <c>Agent:FaultInjection:*</c> settings: deliberate misbehaviour for tests and failure drills (docs/agent.md,
/// "Fault injection"). Off by default. The flags are read on every reconcile pass, so an embedding test may flip them on
/// a running agent through <c>IOptions&lt;AgentOptions&gt;</c>.
/// </summary>
public sealed class AgentFaultInjection
{
    private volatile bool _startNothing;
    private volatile bool _stopBeats;
    private volatile string? _failWithFeature;

    /// <summary>A gray failure: the agent stays registered and keeps beating, but leaves every assignment unstarted
    /// (as if its executor path were wedged). Attempts already running are not affected. <value>false.</value></summary>
    public bool StartNothing
    {
        get => _startNothing;
        set => _startNothing = value;
    }

    /// <summary>A stuck beat loop: the agent writes no registration update (beat, slots change) while its session, its
    /// assignments and its running attempts carry on. With <c>beatFence</c> the agent then fences itself after its beat
    /// lease. <value>false.</value></summary>
    public bool StopBeats
    {
        get => _stopBeats;
        set => _stopBeats = value;
    }

    /// <summary>A bad rolled-out feature (docs/cells.md, "Progressive feature rollout"): while the cell's rollout of the named
    /// experimental feature (<c>x-…</c>) has it on for this agent, every assignment the agent would start is reported
    /// <c>Failed</c> at once instead; with the feature off the agent runs jobs normally. <value>null: off.</value></summary>
    public string? FailWithFeature
    {
        get => _failWithFeature;
        set => _failWithFeature = value;
    }
}
