using System.Globalization;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Cli.Rendering;

/// <summary>Workers, the leader and the cluster as text.</summary>
internal static class ClusterRendering
{
    /// <summary>One row per worker: id, state, used/total slots (<c>-/n</c> when the agent does not report its use),
    /// executors, labels, version, host, age.</summary>
    public static void WriteWorkers(TextWriter writer, IEnumerable<WorkerView> workers, DateTimeOffset now)
    {
        var table = new Table("ID", "CELL", "STATE", "SLOTS", "EXECUTORS", "LABELS", "VERSION", "HOST", "AGE");
        foreach (var w in workers.OrderBy(w => w.Id, StringComparer.Ordinal))
        {
            var labels = string.Join(',', w.Labels.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
            table.Add(
                w.Id,
                w.Cell,
                w.State,
                w.SlotsUsed is { } used ? string.Create(CultureInfo.InvariantCulture, $"{used}/{w.Slots}") : string.Create(CultureInfo.InvariantCulture, $"-/{w.Slots}"),
                string.Join(',', w.Capabilities.Executors),
                labels,
                w.Version,
                w.Host,
                Ages.Since(w.StartedAt, now));
        }

        table.WriteTo(writer);

        // Why a worker gets nothing: one line each under the table, so the table keeps its columns.
        foreach (var w in workers.OrderBy(w => w.Id, StringComparer.Ordinal))
        {
            if (w.State == "suspect")
            {
                var details = string.Join(", ", new[]
                {
                    w.SuspectKind,
                    w.SuspectLevel is { } level ? "phi " + level.ToString("0.##", CultureInfo.InvariantCulture) : null,
                    w.SuspectSince is { } since ? "for " + Ages.Since(since, now) : null,
                }.Where(d => d is not null));
                writer.WriteLine($"{w.Id}: suspect{(details.Length > 0 ? $" ({details})" : "")}: {w.SuspectReason ?? "no reason recorded"}");
            }
            else if (w.State == "unsupportedProtocol")
            {
                writer.WriteLine($"{w.Id}: unsupportedProtocol: it speaks protocol version {w.ProtocolVersion.ToString(CultureInfo.InvariantCulture)}, which the director does not serve; it gets no work");
            }
        }
    }

    /// <summary>One row per cell: its leader (or <c>none</c>), epoch, workers and pending jobs (<c>-</c> until its leader
    /// has published them).</summary>
    public static void WriteCells(TextWriter writer, IEnumerable<CellView> cells)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new Table("CELL", "LEADER", "EPOCH", "WORKERS", "PENDING");
        foreach (var cell in cells)
        {
            table.Add(cell.Cell, cell.Leader ?? "none", cell.Epoch?.ToString(c) ?? "-", cell.Workers.ToString(c), cell.Pending?.ToString(c) ?? "-");
        }

        table.WriteTo(writer);
    }

    /// <summary>One row per cell with its leader and allowed versions, then why each leaderless cell waits.</summary>
    public static void WriteCellPolicies(TextWriter writer, IReadOnlyList<CellView> cells)
    {
        var table = new Table("CELL", "LEADER", "ALLOWED VERSIONS");
        foreach (var cell in cells)
        {
            table.Add(cell.Cell, cell.Leader ?? "none", cell.AllowedVersions is { } allowed ? string.Join(",", allowed) : "any");
        }

        table.WriteTo(writer);
        foreach (var cell in cells.Where(c => c.Waiting is not null))
        {
            writer.WriteLine($"{cell.Cell}: {cell.Waiting}");
        }
    }

    /// <summary>The leader's id, URL, epoch and how long it has led.</summary>
    public static void WriteLeader(TextWriter writer, LeaderView leader, DateTimeOffset now)
    {
        writer.WriteLine($"{"leader:",-10}{leader.DirectorId}");
        writer.WriteLine($"{"url:",-10}{leader.Url}");
        writer.WriteLine($"{"epoch:",-10}{leader.Epoch.ToString(CultureInfo.InvariantCulture)}");
        writer.WriteLine($"{"since:",-10}{Ages.Since(leader.Since, now)} ago");
    }

    /// <summary>The store, then one row per director with the leader marked.</summary>
    public static void WriteCluster(TextWriter writer, ClusterView cluster, DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        var store = cluster.Store;
        writer.WriteLine($"store:    {store.Backend} {string.Join(',', store.Members)} root={store.Root} revision={store.Revision.ToString(c)}");
        writer.WriteLine($"session:  {store.SessionState} (timeout {store.SessionTimeoutSeconds.ToString("0.#", c)}s)");
        writer.WriteLine($"leader:   {cluster.Leader?.DirectorId ?? "none"}{(cluster.Leader is { } l ? $" (epoch {l.Epoch.ToString(c)})" : "")}");
        writer.WriteLine();
        var table = new Table("DIRECTOR", "ROLE", "URL", "VERSION", "AGE");
        foreach (var d in cluster.Directors.OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            var role = d.Id == cluster.Leader?.DirectorId ? "leader" : "follower";
            table.Add(d.Id, role, d.Url, d.Version, Ages.Since(d.StartedAt, now));
        }

        table.WriteTo(writer);
    }
}
