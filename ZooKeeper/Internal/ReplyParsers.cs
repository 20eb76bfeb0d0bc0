namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Reply body decoders, one static delegate each so requests allocate none.</summary>
internal static class ReplyParsers
{
    public static readonly ReplyParser<CreateResult> Create2 =
        static (ref JuteReader r, IReplyContext c, object? _) => new CreateResult(c.ToClientPath(r.ReadString() ?? "/"), r.ReadStat());

    public static readonly ReplyParser<Stat> Stat = static (ref JuteReader r, IReplyContext _, object? _) => r.ReadStat();

    public static readonly ReplyParser<Stat?> ExistsStat = static (ref JuteReader r, IReplyContext _, object? _) => r.ReadStat();

    public static readonly ReplyParser<DataResult> Data =
        static (ref JuteReader r, IReplyContext _, object? _) => new DataResult(r.ReadBuffer(), r.ReadStat());

    public static readonly ReplyParser<ChildrenResult> Children =
        static (ref JuteReader r, IReplyContext _, object? _) => new ChildrenResult(r.ReadStringList(), r.ReadStat());

    public static readonly ReplyParser<AclResult> Acl =
        static (ref JuteReader r, IReplyContext _, object? _) => new AclResult(r.ReadAcls(), r.ReadStat());

    /// <summary>For replies whose body does not matter (delete, sync, addWatch, removeWatches, closeSession).</summary>
    public static readonly ReplyParser<bool> None = static (ref JuteReader _, IReplyContext _, object? _) => true;
}
