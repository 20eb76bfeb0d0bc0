namespace ControlPlane.Contracts;

/// <summary>
/// Versions and capability names of the director–agent protocol (docs/protocol.md). An agent advertises
/// what it understands in its <see cref="Workers.WorkerRecord"/>; the director places a job only on an agent
/// that has the job's executor and every feature the job uses, and writes into an assignment only the fields
/// the agent advertised.
/// </summary>
public static class Protocol
{
    /// <summary>The protocol version this build speaks. Directors place work only on agents whose
    /// <see cref="Workers.WorkerRecord.ProtocolVersion"/> is between <see cref="MinProtocolVersion"/> and this.</summary>
    public const int Version = 1;

    /// <summary>The oldest agent protocol version directors of this build still serve.</summary>
    public const int MinProtocolVersion = 1;

    /// <summary>Layout version written to <c>meta/schema</c>.</summary>
    public const int LayoutVersion = 1;

    /// <summary>Schema version carried by every record this build writes.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The executor that runs an argv as an operating-system process.</summary>
    public const string ShellExecutor = "shell";

    /// <summary>Feature names an agent may advertise in <see cref="Workers.WorkerRecord.Features"/>.</summary>
    public static class Features
    {
        /// <summary>The agent applies <see cref="Jobs.JobSpec.Env"/>; a job with env needs it.</summary>
        public const string Env = "env";

        /// <summary>The agent enforces <see cref="Jobs.JobSpec.TimeoutSeconds"/> itself; a job with a timeout needs it.</summary>
        public const string Timeout = "timeout";

        /// <summary>The agent applies <see cref="Jobs.JobSpec.WorkingDirectory"/>; a job that sets one needs it.</summary>
        public const string WorkingDirectory = "workingDirectory";

        /// <summary>The agent stops a job when its assignment says <c>cancelRequested</c>. Without it, cancelling a
        /// running job waits for the job to end on its own.</summary>
        public const string Cancel = "cancel";

        /// <summary>The agent writes progress heartbeats to its running assignments every
        /// <see cref="Workers.WorkerRecord.HeartbeatSeconds"/>; only such agents can be marked suspect. Superseded by
        /// <see cref="WorkerHeartbeat"/>, which an agent advertises instead (never both): kept for agents configured to
        /// work with leaders built before it.</summary>
        public const string Heartbeat = "heartbeat";

        /// <summary>Liveness per worker, not per attempt: every <see cref="Workers.WorkerRecord.HeartbeatSeconds"/> the
        /// agent updates its own registration once with <see cref="Workers.WorkerRecord.HeartbeatAt"/>,
        /// <see cref="Workers.WorkerRecord.SlotsUsed"/> and <see cref="Workers.WorkerRecord.Running"/> (the attempts
        /// alive on their executor path), and writes an assignment between its start and its result only when the
        /// attempt's progress message changes. A leader counts "listed in a change of the worker record" as that
        /// attempt reporting; such agents can be marked suspect like <see cref="Heartbeat"/> ones.</summary>
        public const string WorkerHeartbeat = "workerHeartbeat";

        /// <summary>Needs <see cref="WorkerHeartbeat"/>. The agent fences itself (kills every attempt, starts nothing) when
        /// no update of its registration that it sent in the last <see cref="Workers.WorkerRecord.BeatFenceSeconds"/> has
        /// been acknowledged, even while its session lives; so a leader may take back the attempts of a worker whose
        /// registration it has not seen change for that bound plus half of it, conditioned on the registration's version
        /// (docs/protocol.md, "Agent: beat fence").</summary>
        public const string BeatFence = "beatFence";

        /// <summary>Every feature this build's agent implements (what <c>Agent:Features</c> may list).</summary>
        public static IReadOnlyList<string> All { get; } = [Env, Timeout, WorkingDirectory, Cancel, Heartbeat, WorkerHeartbeat, BeatFence];

        /// <summary>What an agent advertises unless configured otherwise: every feature but <see cref="Heartbeat"/>,
        /// which <see cref="WorkerHeartbeat"/> replaces. Advertising <see cref="Heartbeat"/> without writing
        /// per-assignment heartbeats would make a leader that only knows it mark the worker suspect.</summary>
        public static IReadOnlyList<string> Default { get; } = [Env, Timeout, WorkingDirectory, Cancel, WorkerHeartbeat, BeatFence];
    }
}
