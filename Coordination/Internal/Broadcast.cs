using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ControlPlane.Coordination.Internal;

/// <summary>
/// A current value plus a stream of changes to any number of readers. A reader that falls behind loses
/// intermediate values, never the latest one, and never slows the writer.
/// </summary>
internal sealed class Broadcast<T>(T initial)
{
    private const int Backlog = 64;
    private readonly Lock _lock = new();
    private readonly List<ChannelWriter<T>> _readers = [];
    private T _current = initial;
    private bool _completed;

    public T Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Publishes <paramref name="value"/> unless <paramref name="unchanged"/> says it equals the current one.</summary>
    public bool Publish(T value, Func<T, T, bool>? unchanged = null)
    {
        lock (_lock)
        {
            if (_completed || (unchanged ?? EqualityComparer<T>.Default.Equals)(_current, value))
            {
                return false;
            }

            _current = value;
            foreach (var reader in _readers)
            {
                reader.TryWrite(value);
            }

            return true;
        }
    }

    /// <summary>Ends every stream after the values already published.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var reader in _readers)
            {
                reader.TryComplete();
            }

            _readers.Clear();
        }
    }

    /// <summary>The current value, then every later one until completion or cancellation.</summary>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(Backlog)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_lock)
        {
            channel.Writer.TryWrite(_current);
            if (_completed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _readers.Add(channel.Writer);
            }
        }

        try
        {
            await foreach (var value in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return value;
            }
        }
        finally
        {
            lock (_lock)
            {
                _readers.Remove(channel.Writer);
            }
        }
    }
}
