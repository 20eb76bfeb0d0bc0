namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Request types of the ZooKeeper 3.8 wire protocol (zookeeper.jute / ZooDefs.OpCode).</summary>
internal enum OpCode
{
    Notification = 0,
    Create = 1,
    Delete = 2,
    Exists = 3,
    GetData = 4,
    SetData = 5,
    GetAcl = 6,
    SetAcl = 7,
    GetChildren = 8,
    Sync = 9,
    Ping = 11,
    GetChildren2 = 12,
    Check = 13,
    Multi = 14,
    Create2 = 15,
    Reconfig = 16,
    CheckWatches = 17,
    RemoveWatches = 18,
    CreateContainer = 19,
    DeleteContainer = 20,
    CreateTtl = 21,
    MultiRead = 22,
    Auth = 100,
    SetWatches = 101,
    Sasl = 102,
    SetWatches2 = 105,
    AddWatch = 106,
    WhoAmI = 107,
    CloseSession = -11,
    Error = -1,
}

/// <summary>Reserved xids: replies carrying them are not answers to queued requests.</summary>
internal static class Xids
{
    public const int Notification = -1;
    public const int Ping = -2;
    public const int Auth = -4;
    public const int SetWatches = -8;
}

/// <summary>Low-cardinality metric/log names for opcodes, allocated once.</summary>
internal static class OpNames
{
    public static string Of(OpCode op) => op switch
    {
        OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => "create",
        OpCode.Delete => "delete",
        OpCode.Exists => "exists",
        OpCode.GetData => "get_data",
        OpCode.SetData => "set_data",
        OpCode.GetAcl => "get_acl",
        OpCode.SetAcl => "set_acl",
        OpCode.GetChildren or OpCode.GetChildren2 => "get_children",
        OpCode.Sync => "sync",
        OpCode.Multi => "multi",
        OpCode.RemoveWatches => "remove_watches",
        OpCode.AddWatch => "add_watch",
        OpCode.CloseSession => "close_session",
        _ => "other",
    };
}
