using ControlPlane.Etcd.Internal;
using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>Watches, all multiplexed over one stream.</summary>
public sealed partial class EtcdClient
{
    /// <summary>
    /// Watches a key or range and returns once the server acknowledged the watch, so every change after
    /// <see cref="EtcdWatch.StartRevision"/> will be reported. The stream carries "hasleader" so a member cut
    /// off from its leader cancels it, and the client then resumes on another member.
    /// </summary>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="options">Range end, start revision, prev_kv, progress, filters; null for "this key, from now".</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement.</param>
    /// <returns>The acknowledged watch; dispose it to stop watching.</returns>
    /// <exception cref="EtcdTimeoutException">No acknowledgement within <see cref="EtcdClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="EtcdException">The server refused the watch (e.g. PermissionDenied).</exception>
    public async Task<EtcdWatch> WatchAsync(ByteString key, EtcdWatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        options ??= new EtcdWatchOptions();
        if (options.StartRevision < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "StartRevision must be 0 (now) or positive.");
        }

        var watcher = new Watcher(key, options, _options.WatchChannelCapacity);
        await _watches.AddAsync(watcher, cancellationToken).ConfigureAwait(false);
        return new EtcdWatch(_watches, watcher, watcher.NextRevision);
    }

    /// <summary>Watches one UTF-8 key; see <see cref="WatchAsync(ByteString, EtcdWatchOptions?, CancellationToken)"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Start revision, prev_kv, ...; a RangeEnd here widens the watch to a range.</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement.</param>
    /// <returns>The acknowledged watch.</returns>
    public Task<EtcdWatch> WatchAsync(string key, EtcdWatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync(EtcdKeys.Key(key), options, cancellationToken);

    /// <summary>Watches every key under a UTF-8 prefix (byte-wise prefix end).</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <param name="options">Start revision, prev_kv, ...; its RangeEnd is replaced by the prefix end.</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement.</param>
    /// <returns>The acknowledged watch.</returns>
    public Task<EtcdWatch> WatchPrefixAsync(string prefix, EtcdWatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var withEnd = (options ?? new EtcdWatchOptions()) with { RangeEnd = EtcdKeys.PrefixEnd(prefix) };
        return WatchAsync(EtcdKeys.Key(prefix), withEnd, cancellationToken);
    }

    /// <summary>Asks the server for a progress notification on every open watch: each receives an empty batch whose
    /// revision it has caught up with. Useful to learn that a quiet watch is current.</summary>
    /// <param name="cancellationToken">Cancels sending the request.</param>
    /// <returns>A task that completes when the request was sent.</returns>
    /// <exception cref="EtcdUnavailableException">No watch stream is open at the moment.</exception>
    public Task RequestWatchProgressAsync(CancellationToken cancellationToken = default) =>
        _watches.RequestProgressAsync(cancellationToken);
}
