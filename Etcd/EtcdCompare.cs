using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>
/// Builds transaction comparisons. Every method sets <see cref="Compare.Target"/> explicitly: protobuf's
/// default target is VERSION, so a hand-built Compare that only sets CreateRevision silently compares the
/// key's version instead (the compare-target pitfall). A missing key compares as zero for every target.
/// </summary>
public static class EtcdCompare
{
    /// <summary>Compares the key's version (number of changes since creation; 0 when absent).</summary>
    /// <param name="key">The key.</param>
    /// <param name="result">The relation that must hold: key's version RESULT operand.</param>
    /// <param name="version">The operand.</param>
    /// <returns>The comparison.</returns>
    public static Compare Version(string key, Compare.Types.CompareResult result, long version) =>
        new() { Key = EtcdKeys.Key(key), Target = Compare.Types.CompareTarget.Version, Result = result, Version = version };

    /// <summary>Compares the key's create revision (0 when absent: "key absent" is CreateRevision(key, Equal, 0)).</summary>
    /// <param name="key">The key.</param>
    /// <param name="result">The relation that must hold.</param>
    /// <param name="revision">The operand.</param>
    /// <returns>The comparison.</returns>
    public static Compare CreateRevision(string key, Compare.Types.CompareResult result, long revision) =>
        new() { Key = EtcdKeys.Key(key), Target = Compare.Types.CompareTarget.Create, Result = result, CreateRevision = revision };

    /// <summary>Compares the key's last modification revision (optimistic concurrency: Equal to the revision read).</summary>
    /// <param name="key">The key.</param>
    /// <param name="result">The relation that must hold.</param>
    /// <param name="revision">The operand.</param>
    /// <returns>The comparison.</returns>
    public static Compare ModRevision(string key, Compare.Types.CompareResult result, long revision) =>
        new() { Key = EtcdKeys.Key(key), Target = Compare.Types.CompareTarget.Mod, Result = result, ModRevision = revision };

    /// <summary>Compares the key's value byte-wise.</summary>
    /// <param name="key">The key.</param>
    /// <param name="result">The relation that must hold.</param>
    /// <param name="value">The operand (UTF-8).</param>
    /// <returns>The comparison.</returns>
    public static Compare Value(string key, Compare.Types.CompareResult result, string value) =>
        new() { Key = EtcdKeys.Key(key), Target = Compare.Types.CompareTarget.Value, Result = result, Value = ByteString.CopyFromUtf8(value) };

    /// <summary>Compares the lease the key is attached to (0 = none).</summary>
    /// <param name="key">The key.</param>
    /// <param name="result">The relation that must hold.</param>
    /// <param name="lease">The operand.</param>
    /// <returns>The comparison.</returns>
    public static Compare Lease(string key, Compare.Types.CompareResult result, long lease) =>
        new() { Key = EtcdKeys.Key(key), Target = Compare.Types.CompareTarget.Lease, Result = result, Lease = lease };

    /// <summary>Applies the comparison to every key in [key, <paramref name="rangeEnd"/>) instead of one key.</summary>
    /// <param name="compare">The comparison.</param>
    /// <param name="rangeEnd">The exclusive range end, e.g. <see cref="EtcdKeys.PrefixEnd(string)"/>.</param>
    /// <returns>The same comparison, for chaining.</returns>
    public static Compare WithRangeEnd(this Compare compare, ByteString rangeEnd)
    {
        ArgumentNullException.ThrowIfNull(compare);
        compare.RangeEnd = rangeEnd;
        return compare;
    }
}
