namespace ControlPlane.Coordination;

/// <summary>
/// The key mapping of a scoped store view (<see cref="StoreScopeExtensions.Scoped"/>): a key <c>k</c> of the view is
/// <c>&lt;prefix&gt;/k</c> in the store beneath it, and only keys below the prefix can be named or seen through it,
/// but for the <see cref="Shared"/> top-level subtrees, which the view passes through unchanged.
/// </summary>
public sealed class StoreScope
{
    /// <summary>Creates the mapping for <paramref name="prefix"/>, a valid key (e.g. <c>cells/a</c>).</summary>
    /// <param name="prefix">The scope's prefix, a valid key.</param>
    /// <param name="shared">Top-level key segments (e.g. <c>idempotency</c>) whose subtrees the view names as they are,
    /// at the store's root: a global subtree a scoped owner must still reach. None by default.</param>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid key, or leaves no room for keys below
    /// it; a shared entry is not one key segment, or contains the prefix.</exception>
    public StoreScope(string prefix, IReadOnlyList<string>? shared = null)
    {
        StoreKeys.Validate(prefix, nameof(prefix));
        if (prefix.Length + 2 > StoreKeys.MaxLength)
        {
            throw new ArgumentException($"A scope prefix leaves room for keys below it: at most {StoreKeys.MaxLength - 2} characters; got {prefix.Length}.", nameof(prefix));
        }

        foreach (var segment in shared ?? [])
        {
            StoreKeys.Validate(segment, nameof(shared));
            if (segment.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"A shared subtree is one top-level key segment; '{segment}' has a '/'.", nameof(shared));
            }

            if (prefix == segment || prefix.StartsWith(segment + "/", StringComparison.Ordinal))
            {
                throw new ArgumentException($"The shared subtree '{segment}' holds the scope '{prefix}' itself.", nameof(shared));
            }
        }

        Prefix = prefix;
        Shared = [.. shared ?? []];
    }

    /// <summary>The prefix, relative to the store's root, without a trailing slash.</summary>
    public string Prefix { get; }

    /// <summary>Top-level subtrees the view passes through unprefixed.</summary>
    public IReadOnlyList<string> Shared { get; }

    /// <summary>True when the view's <paramref name="key"/> (already valid) lies in a <see cref="Shared"/> subtree.</summary>
    public bool IsShared(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var segment in Shared)
        {
            if (key.StartsWith(segment, StringComparison.Ordinal) && (key.Length == segment.Length || key[segment.Length] == '/'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The longest key the view accepts: the store's limit less the prefix and its slash.</summary>
    public int MaxKeyLength => StoreKeys.MaxLength - Prefix.Length - 1;

    /// <summary>The store's key for the view's <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not a valid key, or too long once prefixed.</exception>
    public string ToStore(string key, string parameterName = "key")
    {
        StoreKeys.Validate(key, parameterName);
        if (IsShared(key))
        {
            return key;
        }

        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException(
                $"Key '{key}' has {key.Length} characters; under the scope '{Prefix}' a key has at most {MaxKeyLength}.", parameterName);
        }

        return $"{Prefix}/{key}";
    }

    /// <summary>The store's prefix for a watch of the view's <paramref name="prefix"/>; the empty prefix (every key of
    /// the view) is the scope's own prefix.</summary>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is neither empty nor a valid key.</exception>
    public string ToStorePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        return prefix.Length == 0 ? Prefix : ToStore(prefix, parameterName);
    }

    /// <summary>True when the view can name <paramref name="storeKey"/>: it lies strictly below the prefix, or in a
    /// <see cref="Shared"/> subtree.</summary>
    public bool Contains(string storeKey)
    {
        ArgumentNullException.ThrowIfNull(storeKey);
        return IsBelowPrefix(storeKey) || IsShared(storeKey);
    }

    /// <summary>The view's key for the store's <paramref name="storeKey"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="storeKey"/> is neither below the prefix nor shared (the
    /// view never shows it).</exception>
    public string FromStore(string storeKey)
    {
        ArgumentNullException.ThrowIfNull(storeKey);
        if (IsBelowPrefix(storeKey))
        {
            return storeKey[(Prefix.Length + 1)..];
        }

        return IsShared(storeKey) ? storeKey : throw new ArgumentException($"Key '{storeKey}' is not below the scope '{Prefix}/'.", nameof(storeKey));
    }

    private bool IsBelowPrefix(string storeKey) =>
        storeKey.Length > Prefix.Length + 1 && storeKey[Prefix.Length] == '/' && storeKey.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary><paramref name="item"/> with its key as the view names it.</summary>
    public StoreItem FromStore(StoreItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item with { Key = FromStore(item.Key) };
    }

    /// <summary><paramref name="transaction"/> with every condition's and operation's key prefixed, in the same order
    /// (so <see cref="CommitResult.FailedIndex"/> means the same operation in both).</summary>
    /// <exception cref="ArgumentException">A key is too long once prefixed.</exception>
    public Transaction ToStore(Transaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var mapped = new Transaction();
        foreach (var condition in transaction.Conditions)
        {
            var key = ToStore(condition.Key, nameof(transaction));
            _ = condition.Kind switch
            {
                ConditionKind.Exists => mapped.RequireExists(key),
                ConditionKind.Absent => mapped.RequireAbsent(key),
                ConditionKind.VersionEquals => mapped.RequireVersion(key, condition.Value),
                ConditionKind.CreatedAt => mapped.RequireCreatedAt(key, condition.Value),
                _ => throw new ArgumentException($"Condition kind {condition.Kind} on '{condition.Key}' is not known.", nameof(transaction)),
            };
        }

        foreach (var operation in transaction.Operations)
        {
            var key = ToStore(operation.Key, nameof(transaction));
            _ = operation.Kind switch
            {
                OperationKind.Create => mapped.Create(key, operation.Value, operation.Ephemeral),
                OperationKind.Update => mapped.Update(key, operation.Value, operation.ExpectedVersion),
                OperationKind.Delete => mapped.Delete(key, operation.ExpectedVersion),
                _ => throw new ArgumentException($"Operation kind {operation.Kind} on '{operation.Key}' is not known.", nameof(transaction)),
            };
        }

        return mapped;
    }

    /// <summary><paramref name="result"/> with its items' keys as the view names them.</summary>
    public CommitResult FromStore(CommitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Items.Count == 0 ? result : result with { Items = [.. result.Items.Select(i => i is null ? null : FromStore(i))] };
    }

    /// <summary><paramref name="update"/> with its keys as the view names them; keys not below the prefix (the prefix's
    /// own key, which ZooKeeper may report as a directory) are left out.</summary>
    public WatchUpdate FromStore(WatchUpdate update) => update switch
    {
        WatchChanges changes => changes.Changes.Count == 0 ? changes : new WatchChanges(
            [.. changes.Changes.Where(c => Contains(c.Key))
                .Select(c => c with { Key = FromStore(c.Key), Item = c.Item is null ? null : FromStore(c.Item) })],
            changes.Revision),
        WatchResync resync => new WatchResync([.. resync.Items.Where(i => Contains(i.Key)).Select(FromStore)], resync.Revision),
        null => throw new ArgumentNullException(nameof(update)),
        _ => throw new ArgumentException($"Watch update {update.GetType().Name} is not known.", nameof(update)),
    };

    /// <inheritdoc />
    public override string ToString() => Prefix + "/";
}
