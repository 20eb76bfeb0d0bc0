namespace ControlPlane.Agents;

/// <summary>
/// The <c>Executors:Shell:*</c> configuration section: whether this agent runs operating-system processes, which
/// ones, and how it stops them.
/// </summary>
public sealed class ShellExecutorOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Executors:Shell";

    /// <summary>Run <c>shell</c> jobs (argv, no shell involved). Off, the agent does not advertise the executor and
    /// an assignment for it fails with an error saying so. Needs Linux with util-linux <c>setsid</c> and
    /// <c>setpriv</c> in <c>/usr/bin</c>. <value>false.</value></summary>
    public bool Enabled { get; set; }

    /// <summary>Executables a job may start: its argv[0] must equal an entry, or resolve (through <c>PATH</c> or the
    /// working directory) to an entry's full path. <value>null or empty: any executable.</value></summary>
    public List<string>? Allow { get; set; }

    /// <summary>Time between SIGTERM to a job's process group and SIGKILL when a job is cancelled, times out or is
    /// stopped by a drain. Self-fencing does not wait: it sends SIGKILL at once. <value>10 s.</value></summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(10);
}
