using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// The record at <c>concurrency/&lt;bucket&gt;/&lt;sha256 of the key&gt;</c>: written by the leader only (fenced), in the
/// same transaction as every placement of jobs with that <see cref="JobConcurrency.Key"/>, conditioned on the version
/// the leader's view holds. Its content is for people and for the leader's consistency check; its <em>version</em> is
/// what guards the limit: a placement that landed without the leader seeing its answer has moved it on, so the next
/// placement of the key is refused by the store until the leader's view shows the truth (docs/jobs.md, "Concurrency
/// limits per key"). Removed by the leader once no unfinished job carries the key.
/// </summary>
public sealed record ConcurrencyRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The concurrency key, verbatim.</summary>
    public string Key { get; init; } = "";

    /// <summary>One job the last placement of the key placed: the leader trusts the record's version only once its
    /// view shows this job out of Pending at <see cref="Attempt"/> (or later), i.e. once the view holds that placement.</summary>
    public string Job { get; init; } = "";

    /// <summary>The attempt of <see cref="Job"/> that placement made.</summary>
    public int Attempt { get; init; }

    /// <summary>Every job that placement placed, as <c>&lt;jobId&gt;.&lt;attempt&gt;</c> (at most 30, one transaction's
    /// worth): the leader trusts the record's version only once its view shows each of them out of Pending at that
    /// attempt or later. A view can hold part of one transaction (ZooKeeper's watches read the changed keys in
    /// batches), so one job of it seen placed does not prove the others are. Null in records of older leaders, which
    /// named <see cref="Job"/> alone.</summary>
    public IReadOnlyList<string>? Placements { get; init; }

    /// <summary>How many jobs that placement placed (all in one transaction).</summary>
    public int Placed { get; init; }

    /// <summary>The epoch of the leader that placed them.</summary>
    public long Epoch { get; init; }

    /// <summary>When (that leader's clock; for people).</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 key: its record's name, whatever characters the key has.</summary>
    public static string HashOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The store key of <paramref name="key"/>'s record: <c>concurrency/&lt;hh&gt;/&lt;sha256&gt;</c>.</summary>
    public static string StoreKeyOf(string key) => StoreLayout.ConcurrencyRecord(HashOf(key));
}
