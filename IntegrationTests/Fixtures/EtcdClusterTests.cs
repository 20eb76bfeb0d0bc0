using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Fixtures;

public sealed class EtcdClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Single_member_answers_and_leaves_nothing_behind_when_disposed()
    {
        var server = await EtcdCluster.StartAsync();
        var pid = server.Members[0].ProcessId!.Value;
        var root = server.RootDirectory;

        await server.EtcdCtlAsync("put", "/fixture/a", "1");
        Assert.Equal("/fixture/a\n1\n", await server.EtcdCtlAsync("get", "/fixture/a"));

        await server.DisposeAsync();

        Assert.False(ProcessProbe.IsAlive(pid), $"etcd pid {pid} still runs after dispose");
        Assert.False(Directory.Exists(root), $"{root} still exists after dispose");
    }

    [Fact]
    public async Task Three_members_keep_serving_when_one_is_killed_and_it_catches_up_after_restart()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 3);
        var members = await cluster.EtcdCtlAsync("member", "list");
        Assert.Equal(3, members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var pid = cluster.Members[2].ProcessId!.Value;
        await cluster.KillAsync(2);
        Assert.False(ProcessProbe.IsAlive(pid));

        // Written while member 3 is down: a quorum of two accepts writes again once it has a leader
        // (if member 3 led, the first proposals may time out during the election).
        await Eventually.UntilAsync(
            async () => (await cluster.EtcdCtlAsync("put", "/fixture/written-while-down", "yes")).StartsWith("OK", StringComparison.Ordinal),
            Deadline);

        await cluster.StartMemberAsync(2);
        string? seen = null;
        await Eventually.UntilAsync(
            async () => (seen = await LocalValueAsync(cluster.Members[2], "/fixture/written-while-down")) == "yes",
            Deadline, () => $"member 3 holds {seen ?? "nothing"}");
    }

    [Fact]
    public async Task Extra_arguments_reach_the_server()
    {
        await using var server = await EtcdCluster.StartAsync(options: new EtcdServerOptions { ExtraArguments = ["--max-txn-ops=7"] });
        var ops = Enumerable.Range(0, 8).Select(i => $"put /fixture/k{i} v").ToArray();

        // Eight puts in one transaction exceed the limit of seven: the server's own error proves the flag took.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TxnAsync(server, ops));
        Assert.Contains("too many operations", error.Message, StringComparison.Ordinal);
    }

    private static async Task TxnAsync(EtcdCluster server, string[] ops)
    {
        var body = new StringBuilder("{\"success\":[");
        body.AppendJoin(',', ops.Select((_, i) =>
            $"{{\"requestPut\":{{\"key\":\"{B64($"/fixture/k{i}")}\",\"value\":\"{B64("v")}\"}}}}"));
        body.Append("]}");
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(new Uri($"http://{server.Members[0].ClientAddress}/v3/kv/txn"), content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(text);
        }
    }

    /// <summary>Reads a key from one member's local state (serializable), through etcd's JSON gateway.</summary>
    private static async Task<string?> LocalValueAsync(ServerMember member, string key)
    {
        using var response = await Http.PostAsJsonAsync(
            new Uri($"http://{member.ClientAddress}/v3/kv/range"), new { key = B64(key), serializable = true });
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() > 0
            ? Encoding.UTF8.GetString(Convert.FromBase64String(kvs[0].GetProperty("value").GetString()!))
            : null;
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
}
