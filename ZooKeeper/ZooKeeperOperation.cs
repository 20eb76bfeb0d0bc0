using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

/// <summary>One operation of an atomic <see cref="ZooKeeperClient.MultiAsync"/> transaction. Build with the
/// static factories; all paths are validated when the operation is built.</summary>
public abstract record ZooKeeperOperation
{
    private protected ZooKeeperOperation(string path) => Path = path;

    /// <summary>The node the operation addresses (relative to the chroot).</summary>
    public string Path { get; }

    /// <summary>Creates a node (see <see cref="ZooKeeperClient.CreateAsync"/> for the arguments).</summary>
    public static ZooKeeperOperation Create(string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent,
        IReadOnlyList<ZooKeeperAcl>? acl = null, TimeSpan? ttl = null)
    {
        PathValidation.Validate(path, nameof(path), mode.IsSequential());
        acl ??= ZooKeeperAcl.OpenUnsafe;
        if (acl.Count == 0)
            throw new ArgumentException("An ACL needs at least one entry.", nameof(acl));
        return new CreateOperation(path, data, mode, acl, ttl, ZooKeeperClient.CreateOpCode(mode, ttl));
    }

    /// <summary>Deletes a node if its version matches (-1: any).</summary>
    public static ZooKeeperOperation Delete(string path, int version = -1)
    {
        PathValidation.Validate(path, nameof(path));
        return new DeleteOperation(path, version);
    }

    /// <summary>Sets a node's data if its version matches (-1: any).</summary>
    public static ZooKeeperOperation SetData(string path, ReadOnlyMemory<byte> data, int version = -1)
    {
        PathValidation.Validate(path, nameof(path));
        return new SetDataOperation(path, data, version);
    }

    /// <summary>Fails the transaction unless the node exists with this version (-1: any version).</summary>
    public static ZooKeeperOperation Check(string path, int version)
    {
        PathValidation.Validate(path, nameof(path));
        return new CheckOperation(path, version);
    }

    internal abstract OpCode Op { get; }

    internal abstract void Write(ref JuteWriter writer, string serverPath);
}

/// <summary>A create inside a transaction.</summary>
public sealed record CreateOperation : ZooKeeperOperation
{
    internal CreateOperation(string path, ReadOnlyMemory<byte> data, CreateMode mode, IReadOnlyList<ZooKeeperAcl> acl, TimeSpan? ttl, OpCode op)
        : base(path) => (Data, Mode, Acl, Ttl, CreateOp) = (data, mode, acl, ttl, op);

    /// <summary>The data.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The create mode.</summary>
    public CreateMode Mode { get; }

    /// <summary>The ACL.</summary>
    public IReadOnlyList<ZooKeeperAcl> Acl { get; }

    /// <summary>The TTL (TTL modes only).</summary>
    public TimeSpan? Ttl { get; }

    private OpCode CreateOp { get; }

    internal override OpCode Op => CreateOp;

    internal override void Write(ref JuteWriter writer, string serverPath) =>
        ZooKeeperClient.WriteCreate(ref writer, serverPath, Data.Span, Acl, Mode, Ttl);
}

/// <summary>A delete inside a transaction.</summary>
public sealed record DeleteOperation : ZooKeeperOperation
{
    internal DeleteOperation(string path, int version) : base(path) => Version = version;

    /// <summary>The expected version (-1: any).</summary>
    public int Version { get; }

    internal override OpCode Op => OpCode.Delete;

    internal override void Write(ref JuteWriter writer, string serverPath)
    {
        writer.WriteString(serverPath);
        writer.WriteInt(Version);
    }
}

/// <summary>A setData inside a transaction.</summary>
public sealed record SetDataOperation : ZooKeeperOperation
{
    internal SetDataOperation(string path, ReadOnlyMemory<byte> data, int version) : base(path) => (Data, Version) = (data, version);

    /// <summary>The new data.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The expected version (-1: any).</summary>
    public int Version { get; }

    internal override OpCode Op => OpCode.SetData;

    internal override void Write(ref JuteWriter writer, string serverPath)
    {
        writer.WriteString(serverPath);
        writer.WriteBuffer(Data.Span);
        writer.WriteInt(Version);
    }
}

/// <summary>A version check inside a transaction.</summary>
public sealed record CheckOperation : ZooKeeperOperation
{
    internal CheckOperation(string path, int version) : base(path) => Version = version;

    /// <summary>The expected version (-1: any, i.e. only existence).</summary>
    public int Version { get; }

    internal override OpCode Op => OpCode.Check;

    internal override void Write(ref JuteWriter writer, string serverPath)
    {
        writer.WriteString(serverPath);
        writer.WriteInt(Version);
    }
}
