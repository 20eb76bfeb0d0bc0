using System.Text.Json;

namespace ControlPlane.Coordination;

/// <summary>What a <see cref="Condition"/> checks.</summary>
public enum ConditionKind
{
    /// <summary>The key exists.</summary>
    Exists,

    /// <summary>The key does not exist.</summary>
    Absent,

    /// <summary>The key exists with exactly this <see cref="StoreItem.Version"/>.</summary>
    VersionEquals,

    /// <summary>The key exists and was created at this revision. On ZooKeeper enforced as <see cref="Exists"/>:
    /// only for keys whose names are never reused (see docs/coordination.md).</summary>
    CreatedAt,
}

/// <summary>A check that must hold for a <see cref="Transaction"/> to apply.</summary>
/// <param name="Kind">What is checked.</param>
/// <param name="Key">The key checked.</param>
/// <param name="Value">The expected version or create revision; 0 for <see cref="ConditionKind.Exists"/> and <see cref="ConditionKind.Absent"/>.</param>
public sealed record Condition(ConditionKind Kind, string Key, long Value = 0);

/// <summary>What an <see cref="Operation"/> does.</summary>
public enum OperationKind
{
    /// <summary>Creates the key; fails if it exists.</summary>
    Create,

    /// <summary>Replaces the value; fails if the key is absent (or its version differs from the expected one).</summary>
    Update,

    /// <summary>Deletes the key; fails if it is absent (or its version differs from the expected one).</summary>
    Delete,
}

/// <summary>A write inside a <see cref="Transaction"/>.</summary>
/// <param name="Kind">What the write does.</param>
/// <param name="Key">The key written.</param>
/// <param name="Value">The new value (empty for deletes).</param>
/// <param name="ExpectedVersion">For updates and deletes: the version the key must have, or null for any.</param>
/// <param name="Ephemeral">For creates: bind the key to the store's session.</param>
public sealed record Operation(OperationKind Kind, string Key, ReadOnlyMemory<byte> Value, long? ExpectedVersion = null, bool Ephemeral = false);

/// <summary>
/// Conditions and writes applied all together or not at all, with the same outcome on ZooKeeper and etcd.
/// </summary>
/// <remarks>
/// Build one with the fluent methods and pass it to <see cref="ICoordinationStore.CommitAsync"/>. Limits keep
/// every transaction inside both stores' bounds (etcd allows 128 compares and 128 operations; ZooKeeper
/// 1 MiB per request): at most <see cref="MaxOperations"/> operations and <see cref="MaxConditions"/>
/// conditions, and at most <see cref="MaxBytes"/> of keys and values; each key is written at most once.
/// </remarks>
public sealed class Transaction
{
    /// <summary>Most operations in one transaction.</summary>
    public const int MaxOperations = 64;

    /// <summary>Most explicit conditions in one transaction (the etcd adapter adds one per operation).</summary>
    public const int MaxConditions = 64;

    /// <summary>Most bytes of keys and values in one transaction.</summary>
    public const int MaxBytes = 768 * 1024;

    private readonly List<Condition> _conditions = [];
    private readonly List<Operation> _operations = [];
    private int _bytes;

    /// <summary>The conditions, in the order added.</summary>
    public IReadOnlyList<Condition> Conditions => _conditions;

    /// <summary>The writes, in the order added.</summary>
    public IReadOnlyList<Operation> Operations => _operations;

    /// <summary>Requires <paramref name="key"/> to exist.</summary>
    public Transaction RequireExists(string key) => Add(new Condition(ConditionKind.Exists, key));

    /// <summary>Requires <paramref name="key"/> to be absent.</summary>
    public Transaction RequireAbsent(string key) => Add(new Condition(ConditionKind.Absent, key));

    /// <summary>Requires <paramref name="key"/> to exist with <paramref name="version"/> (1 right after its create).</summary>
    public Transaction RequireVersion(string key, long version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return Add(new Condition(ConditionKind.VersionEquals, key, version));
    }

    /// <summary>Requires <paramref name="key"/> to exist and to have been created at <paramref name="createRevision"/>.</summary>
    public Transaction RequireCreatedAt(string key, long createRevision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(createRevision, 1);
        return Add(new Condition(ConditionKind.CreatedAt, key, createRevision));
    }

    /// <summary>Creates <paramref name="key"/> with <paramref name="value"/>; the commit fails if it exists.
    /// An <paramref name="ephemeral"/> key is deleted when the store's session ends. On ZooKeeper, missing
    /// parents are created (persistent, empty) first.</summary>
    public Transaction Create(string key, ReadOnlyMemory<byte> value, bool ephemeral = false) =>
        Add(new Operation(OperationKind.Create, key, value, null, ephemeral));

    /// <summary>Creates <paramref name="key"/> with <paramref name="value"/> serialised as JSON.</summary>
    public Transaction CreateJson<T>(string key, T value, bool ephemeral = false, JsonSerializerOptions? options = null) =>
        Create(key, JsonSerializer.SerializeToUtf8Bytes(value, options), ephemeral);

    /// <summary>Replaces the value of <paramref name="key"/>; the commit fails if it is absent or, when
    /// <paramref name="expectedVersion"/> is given, has another version.</summary>
    public Transaction Update(string key, ReadOnlyMemory<byte> value, long? expectedVersion = null) =>
        Add(new Operation(OperationKind.Update, key, value, expectedVersion));

    /// <summary>Replaces the value of <paramref name="key"/> with <paramref name="value"/> serialised as JSON.</summary>
    public Transaction UpdateJson<T>(string key, T value, long? expectedVersion = null, JsonSerializerOptions? options = null) =>
        Update(key, JsonSerializer.SerializeToUtf8Bytes(value, options), expectedVersion);

    /// <summary>Deletes <paramref name="key"/>; the commit fails if it is absent or, when
    /// <paramref name="expectedVersion"/> is given, has another version.</summary>
    public Transaction Delete(string key, long? expectedVersion = null) =>
        Add(new Operation(OperationKind.Delete, key, ReadOnlyMemory<byte>.Empty, expectedVersion));

    /// <summary>A copy with <paramref name="condition"/> placed before every other condition.</summary>
    public Transaction WithFirstCondition(Condition condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var copy = new Transaction().Add(condition);
        foreach (var c in _conditions)
        {
            copy.Add(c);
        }

        foreach (var o in _operations)
        {
            copy.Add(o);
        }

        return copy;
    }

    private Transaction Add(Condition condition)
    {
        StoreKeys.Validate(condition.Key, nameof(condition));
        if (_conditions.Count == MaxConditions)
        {
            throw new InvalidOperationException($"A transaction holds at most {MaxConditions} conditions.");
        }

        _conditions.Add(condition);
        return this;
    }

    private Transaction Add(Operation operation)
    {
        StoreKeys.Validate(operation.Key, nameof(operation));
        // A value is never empty: on ZooKeeper an empty znode is only a directory for the keys below it.
        if (operation.Kind != OperationKind.Delete && operation.Value.IsEmpty)
        {
            throw new ArgumentException($"The value of '{operation.Key}' is empty; values are at least one byte (JSON).", nameof(operation));
        }

        if (operation.ExpectedVersion is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(operation), "An expected version is 1 or more.");
        }

        // etcd refuses a transaction that writes one key twice; so do we, on both stores alike.
        if (_operations.Any(o => o.Key == operation.Key))
        {
            throw new InvalidOperationException($"A transaction writes each key at most once; '{operation.Key}' is written twice.");
        }

        if (_operations.Count == MaxOperations)
        {
            throw new InvalidOperationException($"A transaction holds at most {MaxOperations} operations; split the work into batches.");
        }

        var bytes = operation.Key.Length + operation.Value.Length;
        if (_bytes + bytes > MaxBytes)
        {
            throw new InvalidOperationException($"A transaction holds at most {MaxBytes} bytes of keys and values; split the work into batches.");
        }

        _bytes += bytes;
        _operations.Add(operation);
        return this;
    }
}
