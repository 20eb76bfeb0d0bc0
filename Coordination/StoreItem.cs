using System.Text.Json;

namespace ControlPlane.Coordination;

/// <summary>A key's value and its versions, normalised across ZooKeeper and etcd.</summary>
/// <param name="Key">The key, relative to the store's root.</param>
/// <param name="Value">The raw value (UTF-8 JSON for everything the control plane writes).</param>
/// <param name="CreateRevision">The revision that created the key (ZooKeeper czxid, etcd create_revision).</param>
/// <param name="ModRevision">The revision of the last change (ZooKeeper mzxid, etcd mod_revision).</param>
/// <param name="Version">Changes since creation, 1 right after the create (ZooKeeper version + 1, etcd version).</param>
/// <param name="Owner">The id of the session the key lives and dies with (ZooKeeper ephemeralOwner, etcd lease),
/// or 0 for a persistent key.</param>
public sealed record StoreItem(string Key, ReadOnlyMemory<byte> Value, long CreateRevision, long ModRevision, long Version, long Owner)
{
    /// <summary>True when the key lives only as long as the session that created it.</summary>
    public bool IsEphemeral => Owner != 0;

    /// <summary>Deserialises the value as JSON.</summary>
    /// <exception cref="JsonException">The value is not valid JSON for <typeparamref name="T"/>.</exception>
    public T? ReadJson<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Value.Span, options);
}
