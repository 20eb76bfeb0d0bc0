using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.TestSupport;

/// <summary>
/// Records the spans of some activity sources with an <see cref="ActivityListener"/>, all sampled with all data, and
/// starts ambient activities to make calls under. Listeners see the whole process, where other tests run in
/// parallel: read a test's own spans by the trace of its ambient activity (<see cref="InTrace"/>).
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ActivitySource _ambient = new("ControlPlane.Tests.Ambient." + Guid.NewGuid().ToString("N"));
    private readonly ActivityListener _listener;

    /// <summary>Starts listening to <paramref name="sources"/> (and to the recorder's own ambient source).</summary>
    /// <param name="sources">Names of the activity sources to record.</param>
    public SpanRecorder(params string[] sources)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source == _ambient || sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source != _ambient)
                {
                    Stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Every stopped span of the recorded sources, of every test in the process.</summary>
    public ConcurrentQueue<Activity> Stopped { get; } = new();

    /// <summary>Starts an activity of the recorder's own source and makes it current: spans started under it are its
    /// children and share its trace.</summary>
    /// <param name="name">The ambient activity's name.</param>
    public Activity StartAmbient(string name) =>
        _ambient.StartActivity(name, ActivityKind.Internal) ?? throw new InvalidOperationException("The recorder does not listen to its own source.");

    /// <summary>The recorded spans in <paramref name="ambient"/>'s trace, in the order they stopped.</summary>
    /// <param name="ambient">An activity from <see cref="StartAmbient"/>.</param>
    public IReadOnlyList<Activity> InTrace(Activity ambient)
    {
        ArgumentNullException.ThrowIfNull(ambient);
        return [.. Stopped.Where(span => span.TraceId == ambient.TraceId)];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Dispose();
        _ambient.Dispose();
    }
}
