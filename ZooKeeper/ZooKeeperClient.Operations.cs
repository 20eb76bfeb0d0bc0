using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>Creates a node and returns its actual path (sequential suffix included) and stat (create2).</summary>
    /// <param name="path">The node's path; for sequential modes the prefix the suffix is appended to (may end with '/').</param>
    /// <param name="data">The node's bytes (at most the server's jute.maxbuffer, 1 MiB by default).</param>
    /// <param name="mode">Persistent, ephemeral, sequential, container or TTL.</param>
    /// <param name="acl">The ACL; <see cref="ZooKeeperAcl.OpenUnsafe"/> when null.</param>
    /// <param name="ttl">Required for the TTL modes, refused otherwise.</param>
    /// <param name="cancellationToken">Cancels the wait (the create may still happen).</param>
    /// <exception cref="NodeExistsException">The node exists (never for sequential modes).</exception>
    /// <exception cref="NoNodeException">The parent does not exist.</exception>
    /// <exception cref="NoChildrenForEphemeralsException">The parent is ephemeral.</exception>
    /// <exception cref="ConnectionLossException">The reply was lost: the node may or may not exist (see
    /// <see cref="CreateProtectedEphemeralSequentialAsync"/> for the safe form).</exception>
    public Task<CreateResult> CreateAsync(
        string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent,
        IReadOnlyList<ZooKeeperAcl>? acl = null, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path), mode.IsSequential());
        acl ??= ZooKeeperAcl.OpenUnsafe;
        if (acl.Count == 0)
            throw new ArgumentException("An ACL needs at least one entry.", nameof(acl));
        var op = CreateOpCode(mode, ttl);
        var writer = JuteWriter.ForRequest(op, 32 + path.Length * 3 + data.Length + acl.Count * 32);
        WriteCreate(ref writer, ToServerPath(path), data.Span, acl, mode, ttl);
        return Submit(ref writer, new PendingReply<CreateResult>(op, path, ReplyParsers.Create2), cancellationToken);
    }

    internal static OpCode CreateOpCode(CreateMode mode, TimeSpan? ttl)
    {
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown create mode.");
        if (mode.IsTtl())
        {
            if (ttl is not { } t || t <= TimeSpan.Zero)
                throw new ArgumentException("TTL modes need a positive ttl.", nameof(ttl));
            return OpCode.CreateTtl;
        }

        if (ttl is not null)
            throw new ArgumentException($"A ttl is only valid with the TTL create modes, not {mode}.", nameof(ttl));
        return mode == CreateMode.Container ? OpCode.CreateContainer : OpCode.Create2;
    }

    internal static void WriteCreate(ref JuteWriter writer, string serverPath, ReadOnlySpan<byte> data, IReadOnlyList<ZooKeeperAcl> acl, CreateMode mode, TimeSpan? ttl)
    {
        writer.WriteString(serverPath);
        writer.WriteBuffer(data);
        writer.WriteAcls(acl);
        writer.WriteInt((int)mode);
        if (mode.IsTtl())
            writer.WriteLong((long)ttl!.Value.TotalMilliseconds);
    }

    /// <summary>Deletes a node if its version matches (-1: any version).</summary>
    /// <exception cref="NoNodeException">No such node.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    /// <exception cref="NotEmptyException">The node has children.</exception>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.Delete, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteInt(version);
        return Submit(ref writer, new PendingReply<bool>(OpCode.Delete, path, ReplyParsers.None), cancellationToken);
    }

    /// <summary>The node's stat, or null when it does not exist.</summary>
    public Task<Stat?> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        Exists(path, null, cancellationToken);

    /// <summary>Like <see cref="ExistsAsync"/>, and leaves a one-shot watch that fires on the node's creation,
    /// data change or deletion (it is set whether or not the node exists).</summary>
    public async Task<WatchedResult<Stat?>> ExistsAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stat = await Exists(path, sink, cancellationToken).ConfigureAwait(false);
        return new WatchedResult<Stat?>(stat, sink.Task);
    }

    private Task<Stat?> Exists(string path, TaskCompletionSource<WatchedEvent>? sink, CancellationToken cancellationToken)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.Exists, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteBool(sink is not null);
        var request = new PendingReply<Stat?>(OpCode.Exists, path, ReplyParsers.ExistsStat)
        {
            NoNodeIsResult = true,
            Watch = sink is null ? null : new WatchRegistration(WatchKind.Exist, path, sink),
        };
        return Submit(ref writer, request, cancellationToken);
    }

    /// <summary>The node's data and stat.</summary>
    /// <exception cref="NoNodeException">No such node.</exception>
    public Task<DataResult> GetDataAsync(string path, CancellationToken cancellationToken = default) =>
        GetData(path, null, cancellationToken);

    /// <summary>Like <see cref="GetDataAsync"/>, and leaves a one-shot watch that fires on the node's next data
    /// change or deletion. No watch is left when the node does not exist (use <see cref="ExistsAndWatchAsync"/>).</summary>
    public async Task<WatchedResult<DataResult>> GetDataAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var data = await GetData(path, sink, cancellationToken).ConfigureAwait(false);
        return new WatchedResult<DataResult>(data, sink.Task);
    }

    private Task<DataResult> GetData(string path, TaskCompletionSource<WatchedEvent>? sink, CancellationToken cancellationToken)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.GetData, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteBool(sink is not null);
        var request = new PendingReply<DataResult>(OpCode.GetData, path, ReplyParsers.Data)
        {
            Watch = sink is null ? null : new WatchRegistration(WatchKind.Data, path, sink),
        };
        return Submit(ref writer, request, cancellationToken);
    }

    /// <summary>Replaces the node's data if its version matches (-1: any) and returns the new stat.</summary>
    /// <exception cref="NoNodeException">No such node.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    public Task<Stat> SetDataAsync(string path, ReadOnlyMemory<byte> data, int version = -1, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.SetData, 12 + path.Length * 3 + data.Length);
        writer.WriteString(ToServerPath(path));
        writer.WriteBuffer(data.Span);
        writer.WriteInt(version);
        return Submit(ref writer, new PendingReply<Stat>(OpCode.SetData, path, ReplyParsers.Stat), cancellationToken);
    }

    /// <summary>The node's children (names, in no particular order) and its stat.</summary>
    /// <exception cref="NoNodeException">No such node.</exception>
    public Task<ChildrenResult> GetChildrenAsync(string path, CancellationToken cancellationToken = default) =>
        GetChildren(path, null, cancellationToken);

    /// <summary>Like <see cref="GetChildrenAsync"/>, and leaves a one-shot watch that fires when a child is
    /// added or removed, or the node is deleted.</summary>
    public async Task<WatchedResult<ChildrenResult>> GetChildrenAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var children = await GetChildren(path, sink, cancellationToken).ConfigureAwait(false);
        return new WatchedResult<ChildrenResult>(children, sink.Task);
    }

    private Task<ChildrenResult> GetChildren(string path, TaskCompletionSource<WatchedEvent>? sink, CancellationToken cancellationToken)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.GetChildren2, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteBool(sink is not null);
        var request = new PendingReply<ChildrenResult>(OpCode.GetChildren2, path, ReplyParsers.Children)
        {
            Watch = sink is null ? null : new WatchRegistration(WatchKind.Child, path, sink),
        };
        return Submit(ref writer, request, cancellationToken);
    }

    /// <summary>Waits until the server this client is connected to has caught up with the leader as of now, so
    /// a following read sees every write committed before the call (by any client).</summary>
    public Task SyncAsync(string path = "/", CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.Sync, 4 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        return Submit(ref writer, new PendingReply<bool>(OpCode.Sync, path, ReplyParsers.None), cancellationToken);
    }

    /// <summary>The node's ACL and stat.</summary>
    /// <exception cref="NoNodeException">No such node.</exception>
    public Task<AclResult> GetAclAsync(string path, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        var writer = JuteWriter.ForRequest(OpCode.GetAcl, 4 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        return Submit(ref writer, new PendingReply<AclResult>(OpCode.GetAcl, path, ReplyParsers.Acl), cancellationToken);
    }

    /// <summary>Replaces the node's ACL if its ACL version (<see cref="Stat.Aversion"/>) matches (-1: any).</summary>
    /// <exception cref="NoAuthException">The session lacks ADMIN permission on the node.</exception>
    /// <exception cref="BadVersionException">The ACL version did not match.</exception>
    public Task<Stat> SetAclAsync(string path, IReadOnlyList<ZooKeeperAcl> acl, int aclVersion = -1, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        ArgumentNullException.ThrowIfNull(acl);
        if (acl.Count == 0)
            throw new ArgumentException("An ACL needs at least one entry.", nameof(acl));
        var writer = JuteWriter.ForRequest(OpCode.SetAcl, 8 + path.Length * 3 + acl.Count * 32);
        writer.WriteString(ToServerPath(path));
        writer.WriteAcls(acl);
        writer.WriteInt(aclVersion);
        return Submit(ref writer, new PendingReply<Stat>(OpCode.SetAcl, path, ReplyParsers.Stat), cancellationToken);
    }

    /// <summary>Authenticates this session (e.g. <see cref="ZooKeeperAuthInfo.Digest"/>) and remembers it, so it is
    /// replayed on every reconnect. A digest with a wrong password is not refused here: it only fails ACL checks.</summary>
    /// <exception cref="ZooKeeperException">The server rejected the scheme (<see cref="ErrorCode.AuthFailed"/>).</exception>
    public async Task AddAuthAsync(ZooKeeperAuthInfo auth, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(auth);
        lock (_authInfos)
            _authInfos.Add(auth);
        var connection = Volatile.Read(ref _connection);
        if (connection is null || State != ConnectionState.Connected)
            throw NotConnected(State);
        SendAuth(connection, auth);
        // The server handles auth inline before later requests: once a following request is answered, the
        // auth reply (xid -4) has been processed.
        try
        {
            await ExistsAsync("/", cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionLossException) when (_authFailed)
        {
            throw new ZooKeeperException(ErrorCode.AuthFailed, null, $"The server rejected authentication scheme '{auth.Scheme}'");
        }

        if (_authFailed)
            throw new ZooKeeperException(ErrorCode.AuthFailed, null, $"The server rejected authentication scheme '{auth.Scheme}'");
    }
}
