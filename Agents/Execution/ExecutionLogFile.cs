using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ControlPlane.Agents.Executors;

namespace ControlPlane.Agents.Execution;

/// <summary>
/// The <c>Agent:ExecutionLog</c> file: one JSON object per line, appended with O_APPEND and one write(2) per line,
/// so lines from several agents and processes sharing the file never interleave and are on disk (in the page cache)
/// when the call returns. Tests read it across processes to prove no two attempts of a job overlapped.
/// </summary>
internal sealed class ExecutionLogFile : IExecutionObserver
{
    // Agents of one process that name the same file share one descriptor.
    private static readonly ConcurrentDictionary<string, ExecutionLogFile> Open = new(StringComparer.Ordinal);
    private readonly int _fd;
    private readonly Lock _lock = new();

    private ExecutionLogFile(string path) => _fd = NativeMethods.OpenAppend(path);

    /// <summary>The shared writer of <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be opened for appending.</exception>
    public static ExecutionLogFile For(string path) => Open.GetOrAdd(Path.GetFullPath(path), static p => new ExecutionLogFile(p));

    public void OnExecutionEvent(ExecutionEvent executionEvent)
    {
        var line = Format(executionEvent);
        lock (_lock)
        {
            NativeMethods.WriteAll(_fd, line);
        }
    }

    /// <summary>The line for <paramref name="e"/>, newline included.</summary>
    internal static byte[] Format(ExecutionEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", e.Kind.ToString().ToLowerInvariant());
            json.WriteString("jobId", e.JobId);
            json.WriteNumber("attempt", e.Attempt);
            json.WriteNumber("epoch", e.Epoch);
            json.WriteString("workerId", e.WorkerId);
            json.WriteNumber("pid", e.ProcessId);
            // "O" keeps all seven fractional digits (ticks): lines of one host order exactly.
            json.WriteString("time", e.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (e.State is not null)
            {
                json.WriteString("state", e.State);
            }

            if (e.JobProcessId is { } jobPid)
            {
                json.WriteNumber("jobPid", jobPid);
            }

            json.WriteEndObject();
        }

        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
