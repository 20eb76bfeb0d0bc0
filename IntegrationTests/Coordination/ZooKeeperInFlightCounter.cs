using System.Buffers.Binary;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// Counts a ZooKeeper client's requests in flight on the wire, as a <see cref="ControlPlane.TestSupport.TcpProxy"/>
/// forwards them (<see cref="ControlPlane.TestSupport.TcpProxy.Observer"/>): a request (a frame toward the server with
/// a positive xid) is counted when it leaves for the server, and stops counting when its reply (a frame with a positive
/// xid from the server) leaves for the client. Pings, notifications and the handshakes have no positive xid.
/// </summary>
/// <remarks>What the proxy sees is at most what the client has in flight: the client sent a request before the proxy
/// forwards it, and gets a reply after. So a maximum seen here below a bound does not prove the client's, but one above
/// it proves the bound broken; and a read that keeps many requests in flight shows them here.</remarks>
internal sealed class ZooKeeperInFlightCounter
{
    private int _max;
    private long _requests;

    /// <summary>The most requests seen in flight at once on one connection.</summary>
    public int Max => Volatile.Read(ref _max);

    /// <summary>Requests forwarded to the server, every connection together.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Forgets the maximum and the count (connections keep their requests in flight).</summary>
    public void Reset()
    {
        Volatile.Write(ref _max, 0);
        Interlocked.Exchange(ref _requests, 0);
    }

    /// <summary>For <see cref="ControlPlane.TestSupport.TcpProxy.Observer"/>: one connection's observer.</summary>
    public Action<bool, ReadOnlyMemory<byte>> Connection()
    {
        var inFlight = new StrongBox();
        var up = new Frames();
        var down = new Frames();
        return (towardServer, chunk) =>
        {
            foreach (var xid in (towardServer ? up : down).Xids(chunk.Span))
            {
                if (xid <= 0)
                {
                    continue;
                }

                if (towardServer)
                {
                    Interlocked.Increment(ref _requests);
                    Raise(Interlocked.Increment(ref inFlight.Value));
                }
                else
                {
                    Interlocked.Decrement(ref inFlight.Value);
                }
            }
        };
    }

    private void Raise(int now)
    {
        var max = Volatile.Read(ref _max);
        while (now > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, now, max);
            if (seen == max)
            {
                return;
            }

            max = seen;
        }
    }

    private sealed class StrongBox
    {
        public int Value;
    }

    /// <summary>One direction's length-prefixed frames, reassembled across chunks; the first (the handshake) has no xid.</summary>
    private sealed class Frames
    {
        private readonly List<byte> _partial = [];
        private bool _handshakeSeen;

        public List<int> Xids(ReadOnlySpan<byte> chunk)
        {
            _partial.AddRange(chunk);
            var xids = new List<int>();
            var at = 0;
            var bytes = _partial.ToArray();
            while (bytes.Length - at >= 4)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
                if (bytes.Length - at - 4 < length)
                {
                    break;
                }

                if (_handshakeSeen && length >= 4)
                {
                    xids.Add(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 4)));
                }

                _handshakeSeen = true;
                at += 4 + length;
            }

            _partial.RemoveRange(0, at);
            return xids;
        }
    }
}
