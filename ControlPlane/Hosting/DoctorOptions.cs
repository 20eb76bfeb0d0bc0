namespace ControlPlane.Director.Hosting;

/// <summary>
/// The <c>Doctor:*</c> section: thresholds of <c>GET /v1/doctor</c> (docs/operations.md). Validated at start-up.
/// </summary>
public sealed class DoctorOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Doctor";

    /// <summary>A job Pending longer than this since it was submitted is reported, grouped by its explain reason.
    /// <value>5 min.</value></summary>
    public TimeSpan PendingWarnAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A drain requested longer ago than this is reported as long-draining. <value>15 min.</value></summary>
    public TimeSpan DrainWarnAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Most job records one doctor run reads (256 buckets, paged): bounds its cost on a large store; beyond it
    /// the job checks say they saw only part. <value>100,000.</value></summary>
    public int MaxJobsScanned { get; set; } = 100_000;

    /// <summary>etcd's backend quota (its <c>--quota-backend-bytes</c>, which etcd does not report): the database size
    /// is judged against it. <value>2 GiB, etcd's default.</value></summary>
    public long EtcdQuotaBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Every problem with the settings, empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (PendingWarnAfter <= TimeSpan.Zero)
        {
            yield return $"{Section}:{nameof(PendingWarnAfter)} must be positive; got {PendingWarnAfter}.";
        }

        if (DrainWarnAfter <= TimeSpan.Zero)
        {
            yield return $"{Section}:{nameof(DrainWarnAfter)} must be positive; got {DrainWarnAfter}.";
        }

        if (MaxJobsScanned < 1)
        {
            yield return $"{Section}:{nameof(MaxJobsScanned)} must be positive; got {MaxJobsScanned}.";
        }

        if (EtcdQuotaBytes < 1024 * 1024)
        {
            yield return $"{Section}:{nameof(EtcdQuotaBytes)} must be at least 1 MiB; got {EtcdQuotaBytes}.";
        }
    }
}
