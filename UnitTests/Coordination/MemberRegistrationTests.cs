using ControlPlane.Coordination;
using ControlPlane.Coordination.Membership;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Coordination;

public sealed class MemberRegistrationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task Registers_an_ephemeral_member_with_its_metadata_and_removes_it_on_dispose()
    {
        await using var store = _server.Connect();
        var registration = new MemberRegistration(store, "workers", "w1", """{"slots":4}"""u8.ToArray());
        await registration.StartAsync().WaitAsync(Deadline);

        var item = await store.GetAsync("workers/w1");
        Assert.NotNull(item);
        Assert.Equal(store.Session.Id, item.Owner);
        Assert.Equal("""{"slots":4}""", System.Text.Encoding.UTF8.GetString(item.Value.Span));

        await registration.DisposeAsync();
        Assert.Null(await store.GetAsync("workers/w1"));
    }

    [Fact]
    public async Task Registers_again_on_the_new_session_after_expiry_with_updated_metadata()
    {
        await using var store = _server.Connect();
        await using var registration = new MemberRegistration(store, "workers", "w1", "1"u8.ToArray());
        await registration.StartAsync().WaitAsync(Deadline);
        await registration.UpdateAsync("2"u8.ToArray());
        var firstSession = store.Session.Id;

        store.CurrentSession.Expire();

        await Eventually.UntilAsync(async () => (await store.GetAsync("workers/w1"))?.Owner is { } owner && owner != firstSession, Deadline);
        Assert.Equal("2", System.Text.Encoding.UTF8.GetString((await store.GetAsync("workers/w1"))!.Value.Span));
        Assert.True(registration.Registered);
    }

    [Fact]
    public async Task Waits_for_an_earlier_incarnation_to_expire_instead_of_taking_its_id()
    {
        // The earlier incarnation crashed while cut off: its key stays until the store expires its session.
        await using var old = _server.Connect();
        var oldRegistration = new MemberRegistration(old, "workers", "w1", "old"u8.ToArray());
        await oldRegistration.StartAsync().WaitAsync(Deadline);
        old.CurrentSession.Suspend();
        await oldRegistration.DisposeAsync();
        await using var fresh = _server.Connect();
        await using var freshRegistration = new MemberRegistration(fresh, "workers", "w1", "new"u8.ToArray());

        var starting = freshRegistration.StartAsync();
        Assert.False(freshRegistration.Registered);
        Assert.Equal(old.CurrentSession.Id, (await fresh.GetAsync("workers/w1"))!.Owner);

        old.CurrentSession.Expire();

        await starting.WaitAsync(Deadline);
        Assert.Equal(fresh.Session.Id, (await fresh.GetAsync("workers/w1"))!.Owner);
    }

    [Fact]
    public async Task An_update_keeps_the_key_ephemeral_and_never_lands_on_another_incarnations_key()
    {
        await using var store = _server.Connect();
        await using var registration = new MemberRegistration(store, "workers", "w1", "1"u8.ToArray());
        await registration.StartAsync().WaitAsync(Deadline);
        await registration.UpdateAsync("2"u8.ToArray());
        await registration.UpdateAsync("3"u8.ToArray());
        var mine = (await store.GetAsync("workers/w1"))!;
        Assert.Equal((store.Session.Id, 3L, "3"), (mine.Owner, mine.Version, System.Text.Encoding.UTF8.GetString(mine.Value.Span)));

        // The key goes without this registration noticing yet, and another incarnation registers the id at version 1.
        _server.DeleteSilently("workers/w1");
        await using var other = _server.Connect();
        await using var otherRegistration = new MemberRegistration(other, "workers", "w1", "other"u8.ToArray());
        await otherRegistration.StartAsync().WaitAsync(Deadline);
        await otherRegistration.UpdateAsync("other 2"u8.ToArray());
        await otherRegistration.UpdateAsync("other 3"u8.ToArray());

        await Assert.ThrowsAsync<StoreException>(() => registration.UpdateAsync("4"u8.ToArray()));
        var theirs = (await other.GetAsync("workers/w1"))!;
        Assert.Equal((other.Session.Id, "other 3"), (theirs.Owner, System.Text.Encoding.UTF8.GetString(theirs.Value.Span)));
    }
}
