using System.Text.Json.Serialization;

namespace ControlPlane.Contracts.Doctor;

/// <summary>The verdict of one doctor check, and of the whole report (the worst of its checks).</summary>
public enum CheckStatus
{
    /// <summary>Nothing to do.</summary>
    [JsonStringEnumMemberName("OK")]
    Ok,

    /// <summary>Works, but deserves attention; the check says what to do.</summary>
    [JsonStringEnumMemberName("WARN")]
    Warn,

    /// <summary>Broken or unsafe; the check says what to do.</summary>
    [JsonStringEnumMemberName("FAIL")]
    Fail,
}

/// <summary><c>GET /v1/doctor</c>: what is wrong with the cluster, check by check (docs/operations.md).</summary>
/// <param name="Status">The worst status among <paramref name="Checks"/>.</param>
/// <param name="Checks">Every check, in a fixed order.</param>
/// <param name="DirectorId">The director that ran the checks (the timing budget is its own).</param>
/// <param name="At">When it ran them (its clock).</param>
/// <param name="Revision">Store revision the reads started at.</param>
public sealed record DoctorReport(CheckStatus Status, IReadOnlyList<DoctorCheck> Checks, string DirectorId, DateTimeOffset At, long Revision);

/// <summary>One check of a <see cref="DoctorReport"/>.</summary>
/// <param name="Name">Stable name (<c>leader</c>, <c>assignments</c>, ...).</param>
/// <param name="Status">OK, WARN or FAIL.</param>
/// <param name="Summary">What was found, in one line with counts.</param>
/// <param name="Action">What to do about it; null when nothing.</param>
/// <param name="Details">Up to a few lines of particulars (keys, ids, figures); null when none.</param>
public sealed record DoctorCheck(string Name, CheckStatus Status, string Summary, string? Action = null, IReadOnlyList<string>? Details = null);
