namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Check 4: no 5xx for valid requests outside the store-unavailable windows.</summary>
public sealed partial class ChaosChecks
{
    /// <summary>
    /// 4. Every request the workload and the observer sent was valid. A 503 is the documented answer while the store
    /// cannot answer a director: allowed when the request overlapped a store member being down or that director's own
    /// store links being paused or cut, extended by the grace. Any other 5xx, or a 503 outside those windows, fails; so
    /// does a 4xx (a valid request refused).
    /// </summary>
    private void NoServerErrorOutsideStoreFaults()
    {
        var calls = evidence.Calls;
        var byStatus = calls.GroupBy(c => c.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer")
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
        var serverErrors = calls.Where(c => c.Status >= 500).ToList();
        var outside = serverErrors.Where(c => c.Status != 503 || !evidence.Timeline.StoreUnavailable(c.Director, c.Start, c.End, grace)).ToList();
        var refused = calls.Where(c => c.Status is >= 400 and < 500).ToList();
        var unanswered = calls.Where(c => c.Status is null).ToList();
        Line($"4. Requests: {calls.Count} ({string.Join(", ", byStatus)}); by operation: " +
             string.Join(", ", calls.GroupBy(c => c.Operation).Select(g => $"{g.Key} {g.Count()}")) +
             $"; {serverErrors.Count - outside.Count} 503s inside store-fault windows (grace {grace.TotalSeconds:0} s), {outside.Count} 5xx outside; " +
             $"{unanswered.Count} unanswered (connection refused or reset by a killed director, or the 30 s client timeout).");
        Violate("4", outside, c => $"{c.Status} from {c.Director} for {c.Operation} at {evidence.Timeline.At(c.Start)}..{evidence.Timeline.At(c.End)}: {c.Error}");
        Violate("4", refused, c => $"{c.Status} from {c.Director} for a valid {c.Operation} at {evidence.Timeline.At(c.Start)}: {c.Error}");
    }
}
