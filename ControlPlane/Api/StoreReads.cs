using ControlPlane.Coordination;

namespace ControlPlane.Director.Api;

/// <summary>Reading helpers shared by the endpoints.</summary>
internal static class StoreReads
{
    /// <summary>Most children read by <see cref="ListAllAsync"/>: workers, directors and one worker's assignments are
    /// small sets, and a bound keeps one request from reading without end.</summary>
    public const int MaxChildren = 10_000;

    /// <summary>Every child of <paramref name="parent"/> (up to <see cref="MaxChildren"/>), page by page.</summary>
    public static async Task<List<StoreItem>> ListAllAsync(ICoordinationStore store, string parent, CancellationToken cancellationToken)
    {
        var items = new List<StoreItem>();
        string? after = null;
        do
        {
            var page = await store.ListAsync(parent, new ListOptions(1000, after), cancellationToken);
            items.AddRange(page.Items);
            after = page.Next;
        }
        while (after is not null && items.Count < MaxChildren);

        return items;
    }

    /// <summary>The record in <paramref name="item"/>, or null when there is none or it cannot be read (a reader that
    /// explains or diagnoses treats an unreadable record as missing, as the leader does).</summary>
    public static T? TryParse<T>(StoreItem? item)
        where T : class
    {
        if (item is null)
        {
            return null;
        }

        try
        {
            return Contracts.ContractJson.Deserialize<T>(item.Value.Span);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The last segment of a key.</summary>
    public static string Name(StoreItem item) => item.Key[(item.Key.LastIndexOf('/') + 1)..];
}
