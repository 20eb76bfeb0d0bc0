using System.Text.Json;
using ControlPlane.Agents;
using ControlPlane.Agents.Execution;

namespace ControlPlane.UnitTests.Agents;

public sealed class ExecutionLogFileTests
{
    [Fact]
    public void A_line_carries_the_token_the_agent_pid_and_a_utc_time_with_ticks()
    {
        var time = new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.FromHours(2)).AddTicks(1234567);
        var line = ExecutionLogFile.Format(new ExecutionEvent(ExecutionEventKind.End, "job", 2, 9, "w1", 42, time, "Lost", 77));

        Assert.Equal((byte)'\n', line[^1]);
        var json = JsonDocument.Parse(line).RootElement;
        Assert.Equal("end", json.GetProperty("event").GetString());
        Assert.Equal("job", json.GetProperty("jobId").GetString());
        Assert.Equal(2, json.GetProperty("attempt").GetInt32());
        Assert.Equal(9, json.GetProperty("epoch").GetInt64());
        Assert.Equal("w1", json.GetProperty("workerId").GetString());
        Assert.Equal(42, json.GetProperty("pid").GetInt32());
        Assert.Equal("2026-05-04T01:02:01.1234567Z", json.GetProperty("time").GetString());
        Assert.Equal("Lost", json.GetProperty("state").GetString());
        Assert.Equal(77, json.GetProperty("jobPid").GetInt32());
    }

    [Fact]
    public async Task Concurrent_writers_append_whole_lines()
    {
        var path = Path.Combine(Path.GetTempPath(), $"execlog-{Guid.NewGuid():N}.jsonl");
        try
        {
            var log = ExecutionLogFile.For(path);
            await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(() =>
            {
                for (var i = 0; i < 250; i++)
                {
                    log.OnExecutionEvent(new ExecutionEvent(ExecutionEventKind.Start, $"j{writer}-{i}", 1, 1, "w", 1, DateTimeOffset.UtcNow));
                }
            })));

            var lines = File.ReadAllLines(path);
            Assert.Equal(1000, lines.Length);
            Assert.Equal(1000, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("jobId").GetString()).Distinct().Count());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
