using System.Globalization;
using System.Text.Json.Nodes;
using ControlPlane.Client;

namespace ControlPlane.Cli.Events;

/// <summary>
/// What cpctl says on stderr about an event stream the library follows: a cut-off and each retry always, and with
/// <c>-v</c> which director streams from which revision. Synchronous, so the lines come in order with the events.
/// </summary>
internal sealed class EventProgress(CommandContext context) : IProgress<EventStreamProgress>
{
    /// <inheritdoc />
    public void Report(EventStreamProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.Kind)
        {
            case EventStreamProgressKind.Opened when context.Verbose is { } verbose:
                verbose.WriteLine($"{value.Call} streaming from {value.Director}" + (value.LastEventId is { } from ? $" after revision {from.ToString(CultureInfo.InvariantCulture)}" : ""));
                break;
            case EventStreamProgressKind.CutOff:
                context.Error.WriteLine($"stream from {value.Director} cut off: {value.Reason}; resuming");
                break;
            case EventStreamProgressKind.Retrying:
                context.Error.WriteLine(
                    $"event stream: {value.Reason}; opening again in {value.Delay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (retry {value.Retry} of {ControlPlaneClient.MaxEventStreamRetries})");
                break;
        }
    }
}

/// <summary>Reading an event's data.</summary>
internal static class EventData
{
    /// <summary>The data, parsed; null when it is not a JSON object.</summary>
    public static JsonObject? Json(this ControlPlaneEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        try
        {
            return JsonNode.Parse(e.Data) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
