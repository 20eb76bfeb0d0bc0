using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ControlPlane.TestSupport;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

[Collection(ZooKeeperCollection.Name)]
public sealed class MetricsTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Requests_durations_and_session_states_are_published_on_the_component_meter()
    {
        var seen = new ConcurrentBag<(string Instrument, string? Operation, string? Status)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ControlPlane.ZooKeeper")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, _, tags, _) => seen.Add((i.Name, Tag(tags, "zookeeper.operation"), Tag(tags, "zookeeper.status"))));
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) => seen.Add((i.Name, Tag(tags, "zookeeper.operation"), Tag(tags, "zookeeper.status"))));
        listener.Start();

        await using (var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString)))
        {
            await zk.CreateAsync("/m", default);
            await Assert.ThrowsAsync<ControlPlane.ZooKeeper.NoNodeException>(() => zk.GetDataAsync("/missing"));
        }

        Assert.Contains(("controlplane.zookeeper.requests", "create", "ok"), seen);
        Assert.Contains(("controlplane.zookeeper.requests", "get_data", "NoNode"), seen);
        Assert.Contains(seen, s => s.Instrument == "controlplane.zookeeper.request.duration" && s.Operation == "create");
        Assert.Contains(seen, s => s.Instrument == "controlplane.zookeeper.sessions");
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
                return tag.Value as string;
        }

        return null;
    }
}
