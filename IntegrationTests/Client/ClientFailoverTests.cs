using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Client;

/// <summary>
/// ControlPlane.Client over real sockets against two director processes on a real store, the first killed with -9:
/// every call fails over to the live one, and a keyed submission lands exactly once.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class ClientFailoverTests(EtcdFixture fixture) : IAsyncLifetime
{
    private readonly ControlPlaneApps _apps = new("client");
    private readonly StoreTarget _target = new("etcd", fixture.Endpoints, "t/" + TestNames.Unique("client"), TimeSpan.FromSeconds(4));
    private IReadOnlyList<DirectorProcess> _directors = [];

    /// <inheritdoc />
    public async Task InitializeAsync() =>
        // API only: nothing here needs a leader.
        _directors = await Task.WhenAll(
            Enumerable.Range(1, 2).Select(i => _apps.StartDirectorAsync(_target, $"director-{i}", ["--Director:Campaign=false"])));

    /// <inheritdoc />
    public async Task DisposeAsync() => await _apps.DisposeAsync();

    [Fact]
    public async Task With_the_first_director_killed_every_call_fails_over_and_a_keyed_submission_lands_once()
    {
        await _directors[0].Process.KillAsync();
        using var client = ControlPlaneClient.Create(o =>
        {
            foreach (var director in _directors)
            {
                o.Directors.Add(director.Url);
            }

            o.Token = _apps.Token;
        });
        var spec = new JobSpec { Executor = "shell", Command = ["/bin/true"] };

        var keyed = await client.SubmitJobAsync(spec, "failover-1");
        // A refused connection reached nobody, so even an unkeyed submission may go on to the next director.
        var unkeyed = await client.SubmitJobAsync(spec);
        var replay = await client.SubmitJobAsync(spec, "failover-1");
        var read = await client.GetJobAsync(keyed.Id, keyed.Revision);
        var all = await client.ListJobsAsync(new JobFilter { MinRevision = unkeyed.Revision }).Select(j => j.Id).Order(StringComparer.Ordinal).ToListAsync();

        Assert.Equal(keyed.Id, replay.Id);
        Assert.Equal(keyed.Id, read.Id);
        Assert.Equal(new[] { keyed.Id, unkeyed.Id }.Order(StringComparer.Ordinal), all);

        // With no director left, the call fails saying nothing arrived (a refused connection), naming both.
        await _directors[1].Process.KillAsync();
        using var none = ControlPlaneClient.Create(o =>
        {
            o.Directors.Add(_directors[0].Url);
            o.Directors.Add(_directors[1].Url);
            o.MaxRetryAttempts = 0;
        });
        var e = await Assert.ThrowsAsync<ControlPlaneUnreachableException>(() => none.GetJobAsync(keyed.Id));
        Assert.False(e.MayHaveReachedDirector);
        Assert.Contains(_directors[0].Url.Authority, e.Message, StringComparison.Ordinal);
        Assert.Contains(_directors[1].Url.Authority, e.Message, StringComparison.Ordinal);
    }
}
