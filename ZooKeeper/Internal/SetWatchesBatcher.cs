namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Splits watch re-registration into setWatches2 frames of at most ~128 KiB of paths each: the server
/// rejects frames above its jute.maxbuffer, and a session may hold many thousands of watches.</summary>
internal static class SetWatchesBatcher
{
    public const int MaxBatchBytes = 128 * 1024;

    public static IEnumerable<(byte[] Buffer, int Length)> Batch(
        long relativeZxid, List<string> data, List<string> exist, List<string> child, List<string> persistent, List<string> recursive)
    {
        List<string>[] lists = [data, exist, child, persistent, recursive];
        var positions = new int[lists.Length];
        while (true)
        {
            // Take paths from each list in turn until the budget is spent.
            var budget = MaxBatchBytes;
            var slices = new List<string>[lists.Length];
            var any = false;
            for (var i = 0; i < lists.Length; i++)
            {
                slices[i] = [];
                while (positions[i] < lists[i].Count)
                {
                    var cost = System.Text.Encoding.UTF8.GetByteCount(lists[i][positions[i]]) + 4;
                    if (cost > budget && any)
                        break;
                    slices[i].Add(lists[i][positions[i]++]);
                    budget -= cost;
                    any = true;
                }
            }

            if (!any)
                yield break;
            yield return Encode(relativeZxid, slices);
        }
    }

    private static (byte[], int) Encode(long relativeZxid, List<string>[] slices)
    {
        var writer = JuteWriter.ForRequest(OpCode.SetWatches2, 64);
        writer.WriteLong(relativeZxid);
        foreach (var slice in slices)
            writer.WriteStringVector(slice);
        var (buffer, length) = writer.Complete();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(JuteWriter.XidOffset), Xids.SetWatches);
        return (buffer, length);
    }
}
