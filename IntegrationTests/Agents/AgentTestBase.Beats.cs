using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>Feature <c>workerHeartbeat</c> on a real store: the beats rewrite the ephemeral registration, which must
/// stay bound to the agent's session (a ZooKeeper znode keeps its owner across setData; an etcd put must keep the
/// key's lease, or the key would outlive the agent).</summary>
public abstract partial class AgentTestBase
{
    [Fact]
    public async Task Beats_keep_the_registration_ephemeral_on_the_agents_session_and_it_vanishes_with_the_session()
    {
        var proxy = Own(TcpProxy.Start(Endpoints.Split(',')[0]));
        var (_, _, workerId) = await StartAgentAsync(endpoints: proxy.Address);
        var workerKey = StoreLayout.Worker(workerId);
        var registered = (await Director.GetAsync(workerKey))!;
        var key = await AssignAsync(workerId, new AssignmentRecord { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":300}""").RootElement });
        var running = await WaitForStateAsync(key, AttemptState.Running);
        var assignmentVersion = (await Director.GetAsync(key))!.Version;

        // Three beats (1 s apart) that list the attempt, each a rewrite of the registration.
        var seen = registered;
        await Eventually.UntilAsync(
            async () => (seen = await Director.GetAsync(workerKey)) is { } item && item.Version >= registered.Version + 3
                && ContractJson.Deserialize<WorkerRecord>(item.Value.Span).Running?.Contains(StoreKeys.Name(key)) == true,
            Deadline, () => $"version {seen?.Version}, {(seen is null ? "gone" : System.Text.Encoding.UTF8.GetString(seen.Value.Span))}");
        var beat = (await Director.GetAsync(workerKey))!;
        var record = ContractJson.Deserialize<WorkerRecord>(beat.Value.Span);
        Assert.Equal(registered.Owner, beat.Owner);
        Assert.Equal(registered.CreateRevision, beat.CreateRevision);
        Assert.True(beat.IsEphemeral);
        Assert.Equal(1, record.SlotsUsed);
        Assert.NotNull(record.HeartbeatAt);
        Assert.Contains(Protocol.Features.WorkerHeartbeat, record.Features);

        // The sleep handler's one progress message was written once; the beats wrote nothing else to the assignment.
        var assignment = (await Director.GetAsync(key))!;
        Assert.True(assignment.Version <= assignmentVersion + 1, $"the assignment was written {assignment.Version - assignmentVersion} times since Running");
        Assert.Equal("sleeping 300 s", (await ReadAsync(key))!.Progress);

        // Cut off: the store expires the session, and the rewritten key must go with it.
        proxy.Pause();
        await Director.WaitForDeletionAsync(workerKey).WaitAsync(SessionTimeout + Deadline);
        Assert.Equal(running.JobId, (await ReadAsync(key))!.JobId);
    }
}
