namespace ControlPlane.ZooKeeper;

/// <summary>How a node is created; the values are the wire flags of ZooKeeper 3.8.</summary>
public enum CreateMode
{
    /// <summary>A node that lives until deleted.</summary>
    Persistent = 0,
    /// <summary>A node deleted when the creating session ends.</summary>
    Ephemeral = 1,
    /// <summary>A persistent node whose name gets a 10-digit, monotonically increasing suffix.</summary>
    PersistentSequential = 2,
    /// <summary>An ephemeral node with a sequential suffix (locks, elections, queues).</summary>
    EphemeralSequential = 3,
    /// <summary>A node the server deletes once its last child is gone (recipes' parent nodes).</summary>
    Container = 4,
    /// <summary>A persistent node deleted after its TTL when it has no children and was not modified.
    /// Needs a server started with <c>zookeeper.extendedTypesEnabled=true</c>.</summary>
    PersistentWithTtl = 5,
    /// <summary>A sequential TTL node; see <see cref="PersistentWithTtl"/>.</summary>
    PersistentSequentialWithTtl = 6,
}

/// <summary>Helpers about <see cref="CreateMode"/>.</summary>
public static class CreateModeExtensions
{
    /// <summary>True for the modes that append a sequence number to the name.</summary>
    public static bool IsSequential(this CreateMode mode) =>
        mode is CreateMode.PersistentSequential or CreateMode.EphemeralSequential or CreateMode.PersistentSequentialWithTtl;

    /// <summary>True for the modes whose node ends with the session.</summary>
    public static bool IsEphemeral(this CreateMode mode) => mode is CreateMode.Ephemeral or CreateMode.EphemeralSequential;

    /// <summary>True for the modes that need a TTL.</summary>
    public static bool IsTtl(this CreateMode mode) => mode is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl;
}
