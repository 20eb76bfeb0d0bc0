using System.Globalization;
using System.Text;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>What a fault does.</summary>
public enum FaultKind
{
    /// <summary>kill -9 of the leading director, restarted under the same id.</summary>
    KillLeader,

    /// <summary>kill -9 of an agent, restarted under the same <c>Agent:Id</c>.</summary>
    KillAgent,

    /// <summary>kill -9 of one store member, restarted with its data.</summary>
    KillStoreMember,

    /// <summary>Every store connection of one process black-holed for longer than the session timeout.</summary>
    PauseStoreLink,

    /// <summary>Every store connection of one process reset.</summary>
    CutStoreLink,

    /// <summary>Every store member killed with -9 at once, started again with its data (<c>StoreOutageTests</c>).</summary>
    StoreOutage,

    /// <summary>One store member stopped with SIGTERM and started again: a step of a rolling restart
    /// (<c>StoreOutageTests</c>).</summary>
    RestartStoreMember,
}

/// <summary>One injected fault: from injection to repair.</summary>
/// <param name="Kind">What was done.</param>
/// <param name="Target">To whom (process name or store member).</param>
/// <param name="Start">When it was injected (UTC).</param>
public sealed record Fault(FaultKind Kind, string Target, DateTimeOffset Start)
{
    /// <summary>When it was repaired (UTC); null while it lasts.</summary>
    public DateTimeOffset? End { get; set; }

    /// <summary>What else happened (the leader's epoch, the pid killed).</summary>
    public string? Detail { get; set; }

    /// <summary>True when the fault can make <paramref name="director"/>'s store requests fail: a store member down
    /// (every client may be reconnecting), the whole store down, or that director's own store links paused or cut.</summary>
    public bool AffectsStoreOf(string director) =>
        Kind is FaultKind.KillStoreMember or FaultKind.StoreOutage or FaultKind.RestartStoreMember || (Kind is FaultKind.PauseStoreLink or FaultKind.CutStoreLink && Target == director);
}

/// <summary>Every fault of a run, with timestamps: what the 5xx check allows and what failure messages print.</summary>
public sealed class FaultTimeline
{
    private readonly List<Fault> _faults = [];
    private readonly Lock _lock = new();
    private readonly DateTimeOffset _origin = DateTimeOffset.UtcNow;

    /// <summary>Every fault so far.</summary>
    public IReadOnlyList<Fault> Faults
    {
        get
        {
            lock (_lock)
            {
                return [.. _faults];
            }
        }
    }

    /// <summary>Records a fault injected now.</summary>
    public Fault Begin(FaultKind kind, string target)
    {
        var fault = new Fault(kind, target, DateTimeOffset.UtcNow);
        lock (_lock)
        {
            _faults.Add(fault);
        }

        return fault;
    }

    /// <summary>Records the repair of <paramref name="fault"/> now.</summary>
    public void End(Fault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_lock)
        {
            fault.End = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>True when a request to <paramref name="director"/> from <paramref name="from"/> to <paramref name="to"/>
    /// overlapped a fault that affects its store, extended by <paramref name="grace"/> after the repair (sessions and
    /// connections take up to a session timeout to recover).</summary>
    public bool StoreUnavailable(string director, DateTimeOffset from, DateTimeOffset to, TimeSpan grace)
    {
        lock (_lock)
        {
            return _faults.Any(f => f.AffectsStoreOf(director) && f.Start <= to && (f.End ?? DateTimeOffset.MaxValue.Subtract(grace)) + grace >= from);
        }
    }

    /// <summary>Seconds since the run began, for readable timelines.</summary>
    public string At(DateTimeOffset time) => string.Create(CultureInfo.InvariantCulture, $"t+{(time - _origin).TotalSeconds:0.0}s");

    /// <summary>One line per fault: when, what, to whom, how long.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var f in Faults)
        {
            var length = f.End is { } end ? string.Create(CultureInfo.InvariantCulture, $"{(end - f.Start).TotalSeconds:0.0}s") : "unrepaired";
            text.Append(CultureInfo.InvariantCulture, $"  {At(f.Start),-9} {f.Kind,-16} {f.Target,-12} {length,-10} {f.Detail}").Append('\n');
        }

        return text.Length == 0 ? "  (no faults)\n" : text.ToString();
    }
}
