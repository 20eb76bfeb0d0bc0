using ControlPlane.IntegrationTests.Dashboard;

namespace ControlPlane.IntegrationTests.Operations;

/// <summary>
/// The Prometheus series docs/operations.md documents (section 4, one table per <c>#### &lt;group&gt; series</c>
/// heading, the name in the first column): what the scrape tests expect on <c>/metrics</c> and what the alert
/// rules may use. Read from the file, so a series added to the code without its row, or a row without its series,
/// fails a test.
/// </summary>
internal static class DocumentedSeries
{
    /// <summary>The director's meter (<c>ControlPlane.Director</c>).</summary>
    public const string Director = "Director";

    /// <summary>The agent's meter (<c>ControlPlane.Agent</c>).</summary>
    public const string Agent = "Agent";

    /// <summary>The ZooKeeper client's meter.</summary>
    public const string ZooKeeper = "ZooKeeper client";

    /// <summary>The etcd client's meter.</summary>
    public const string Etcd = "etcd client";

    /// <summary>Group → documented series names.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Read()
    {
        var text = File.ReadAllText(Path.Combine(DashboardBrowser.RepositoryRoot(), "docs", "operations.md"));
        var start = text.IndexOf("\n## 4. Metrics", StringComparison.Ordinal);
        var end = start < 0 ? -1 : text.IndexOf("\n## 5.", start + 1, StringComparison.Ordinal);
        if (start < 0 || end < 0)
        {
            throw new InvalidOperationException("docs/operations.md has no section '## 4. Metrics' followed by '## 5.'.");
        }

        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in text[start..end].Split('\n'))
        {
            if (line.StartsWith("#### ", StringComparison.Ordinal) && line.EndsWith(" series", StringComparison.Ordinal))
            {
                current = [];
                groups.Add(line[5..^7], current);
            }
            else if (line.StartsWith('#'))
            {
                current = null;
            }
            else if (current is not null && line.StartsWith("| `controlplane_", StringComparison.Ordinal))
            {
                current.Add(line[3..line.IndexOf('`', 3)]);
            }
        }

        foreach (var group in (string[])[Director, Agent, ZooKeeper, Etcd])
        {
            if (!groups.TryGetValue(group, out var names) || names.Count == 0)
            {
                throw new InvalidOperationException($"docs/operations.md, section 4, has no table under '#### {group} series'.");
            }
        }

        return groups.ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Value, StringComparer.Ordinal);
    }

    /// <summary>The group of the store client of <paramref name="backend"/> (<c>zookeeper</c>, <c>etcd</c>).</summary>
    public static string StoreClient(string backend) => backend switch
    {
        "zookeeper" => ZooKeeper,
        "etcd" => Etcd,
        _ => throw new ArgumentException($"Unknown backend '{backend}'.", nameof(backend)),
    };
}
