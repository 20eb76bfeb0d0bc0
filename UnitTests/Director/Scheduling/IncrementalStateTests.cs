using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Contracts.Workers;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>
/// The leader's incremental state must plan exactly what a full rebuild from the same store content plans. One random
/// stream of store changes (jobs, assignments, workers, drain and suspect markers, the clock moving) is fed to one
/// long-lived <see cref="LeaderState"/>; at random points a pass is planned from it and from a state rebuilt from the
/// store at that moment, and the two plans must be the same writes with the same next deadline. Jobs carry
/// concurrency keys, and the keys' records are written by the plans' placements and, now and then, by hand (a record
/// naming a job whose placement the view does not hold, as a lost answer or another watch would leave it). Then some of the
/// plan's writes are committed the way the leader commits them (the store changes, the state applies the write at
/// once, the watch's copy follows before any later change) and the others are dropped, as a refused commit would be,
/// so later passes must plan them again.
/// </summary>
public sealed class IncrementalStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] JobIdsUsed = [.. Enumerable.Range(0, 10).Select(i => $"0190a000000070008000000000000{i:x3}")];
    private static readonly string[] WorkerIds = ["w0", "w1", "w2", "w3"];
    private static readonly string[] ScheduleIdsUsed = ["0190a00000007000800000000000a001", "0190a00000007000800000000000a002"];
    private static readonly string[] WorkflowIdsUsed = ["0190a00000007000800000000000b001", "0190a00000007000800000000000b002"];

    [Fact]
    public void A_random_stream_of_store_changes_plans_the_same_as_a_full_rebuild()
    {
        Gen.Int[0, 1_000_000].Array[1, 300].Sample(stream => { Replay(stream); }, iter: 400);
    }

    [Fact]
    public void The_random_stream_reaches_every_kind_of_write()
    {
        // Not vacuous: the streams the property runs on make the planner write every kind of write.
        var kinds = new HashSet<WriteKind>();
        var keyed = 0;
        Gen.Int[0, 1_000_000].Array[1, 300].Sample(stream =>
        {
            var (seen, placements) = Replay(stream);
            kinds.UnionWith(seen);
            keyed += placements;
        }, iter: 200, seed: "0N0XIzNsQ0O2");
        Assert.Equal(Enum.GetValues<WriteKind>().Order(), kinds.Order());
        Assert.True(keyed > 0, "no placement of a concurrency key was planned");
    }

    [Fact]
    public void The_self_check_finds_a_change_the_incremental_state_missed_and_the_rebuild_has_it()
    {
        var f = new PlannerFixture();
        f.Worker("w1");
        var job = f.Job();
        var state = f.Build();
        var missed = f.Replace(job, job.Record with { CancelRequested = true }); // in the store, never applied

        var rebuilt = LeaderState.Rebuild(f.Items, f.Now, NullLogger.Instance, state);
        var differences = state.Differences(rebuilt, 5);

        Assert.Equal([$"only here: job {job.Record.Id} v1 Pending", $"only there: job {job.Record.Id} v2 Pending"], differences);
        Assert.True(rebuilt.Jobs[job.Record.Id].Record.CancelRequested);
        Assert.Equal(missed.Version, rebuilt.Jobs[job.Record.Id].Version);
    }

    [Fact]
    public void Ids_used_by_the_random_stream_are_valid_job_ids()
    {
        Assert.All(JobIdsUsed.Concat(ScheduleIdsUsed), id => Assert.True(JobIds.IsValid(id), id));
    }

    private static (HashSet<WriteKind> Kinds, int KeyedPlacements) Replay(int[] stream)
    {
        var world = new World();
        for (var i = 0; i < stream.Length; i++)
        {
            var r = new Rng(stream, i);
            world.Step(r);
        }

        world.Compare(null);
        return (world.Kinds, world.KeyedPlacements);
    }

    /// <summary>Reads decisions from the generated numbers (and keeps going deterministically past their end).</summary>
    private sealed class Rng(int[] stream, int at)
    {
        private int _next = at;
        private uint _mix = (uint)stream[at] * 2654435761u;

        public int Next(int bound)
        {
            _mix ^= (uint)stream[_next++ % stream.Length];
            _mix = (_mix * 1103515245u) + 12345u;
            return (int)((_mix >> 8) % (uint)bound);
        }

        public bool Chance(int percent) => Next(100) < percent;
    }

    /// <summary>A store, a clock and one incremental leader state following them.</summary>
    private sealed class World
    {
        private readonly Dictionary<string, StoreItem> _store = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _sessions = new(StringComparer.Ordinal);
        private readonly SchedulerOptions _options = new() { Retention = TimeSpan.FromSeconds(60) };
        private readonly LeaderState _state = new(NullLogger.Instance);
        private readonly List<StoreChange> _echoes = [];
        private long _revision = 10;
        private long _session = 500;
        private DateTimeOffset _now = T0;

        public HashSet<WriteKind> Kinds { get; } = [];

        /// <summary>Placement writes of concurrency keys planned (each with its record's update).</summary>
        public int KeyedPlacements { get; private set; }

        public void Step(Rng r)
        {
            switch (r.Next(15))
            {
                case 11:
                    PutSchedule(r);
                    break;
                case 12:
                    PutWorkflow(r);
                    break;
                case 13:
                    PutKeyRecord(r);
                    break;
                case 0 or 1 or 2:
                    PutJob(r);
                    break;
                case 3:
                    Delete(StoreLayout.Job(JobIdsUsed[r.Next(JobIdsUsed.Length)]));
                    break;
                case 4 or 5:
                    PutAssignment(r);
                    break;
                case 6:
                    var assignments = _store.Keys.Where(k => k.StartsWith(StoreLayout.Assignments + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
                    if (assignments.Count > 0)
                    {
                        Delete(assignments[r.Next(assignments.Count)]);
                    }

                    break;
                case 7:
                    PutWorker(r);
                    break;
                case 8:
                    Delete(StoreLayout.Worker(WorkerIds[r.Next(WorkerIds.Length)]));
                    break;
                case 9:
                    var marker = r.Chance(50) ? StoreLayout.Drain(WorkerIds[r.Next(WorkerIds.Length)]) : StoreLayout.Suspect(WorkerIds[r.Next(WorkerIds.Length)]);
                    if (_store.ContainsKey(marker))
                    {
                        Delete(marker);
                    }
                    else
                    {
                        Put(marker, """{"schema":1}"""u8.ToArray());
                    }

                    break;
                case 10:
                    _now += TimeSpan.FromSeconds(r.Next(45));
                    break;
                default:
                    Compare(r);
                    break;
            }
        }

        /// <summary>Plans from the incremental state and from a rebuild; both must agree. Then commits some of the
        /// writes (applied to the state at once, their watch copies delivered later) and drops the others.</summary>
        public void Compare(Rng? r)
        {
            // Sometimes the watch has not brought the leader's own last writes back yet: the state has them anyway.
            if (r is null || r.Chance(50))
            {
                FlushEchoes();
            }

            var incremental = new Planner(_options).PlanPass(_state, 7, _now);

            var rebuilt = LeaderState.Rebuild(_store.Values.OrderBy(i => i.Key, StringComparer.Ordinal), _now, NullLogger.Instance, _state);
            rebuilt.AdvanceJobsRevision(_state.JobsRevision); // as the leader does: the jobs cache's revision, taken with its content
            var diff = _state.Differences(rebuilt, 5);
            Assert.True(diff.Count == 0, string.Join("\n", diff));
            var full = new Planner(_options).PlanPass(rebuilt, 7, _now);

            Assert.Equal(Describe(full), Describe(incremental));
            Assert.True(full.NextDue == incremental.NextDue,
                $"next due: rebuild {full.NextDue:O}, incremental {incremental.NextDue:O}\nrebuild: {string.Join("; ", rebuilt.Deadlines.Describe())}\nincremental: {string.Join("; ", _state.Deadlines.Describe())}");
            foreach (var write in incremental.Writes)
            {
                Kinds.Add(write.Kind);
                KeyedPlacements += write.Kind == WriteKind.Place && write.Operations[^1].Key.StartsWith(StoreLayout.Concurrency + "/", StringComparison.Ordinal) ? 1 : 0;
                if (r is null || !r.Chance(60) || !TryCommit(write))
                {
                    _state.Redo(write);
                }
            }
        }

        /// <summary>Commits <paramref name="write"/> if its conditions hold in the store: the store changes, the
        /// state applies the write at once (as the leader does), and the watch's copies follow later.</summary>
        private bool TryCommit(PlannedWrite write)
        {
            bool Holds(string key, long? version, bool mustExist) =>
                _store.TryGetValue(key, out var held) ? mustExist && (version is null || held.Version == version) : !mustExist;
            var ok = write.Conditions.All(c => c.Kind switch
            {
                ConditionKind.Absent => Holds(c.Key, null, false),
                ConditionKind.VersionEquals => Holds(c.Key, c.Value, true),
                _ => Holds(c.Key, null, true),
            }) && write.Operations.All(o => o.Kind == OperationKind.Create ? Holds(o.Key, null, false) : Holds(o.Key, o.ExpectedVersion, true));
            if (!ok)
            {
                return false;
            }

            var revision = ++_revision;
            var items = new List<StoreItem?>();
            foreach (var operation in write.Operations)
            {
                if (operation.Kind == OperationKind.Delete)
                {
                    _store.Remove(operation.Key);
                    items.Add(null);
                    _echoes.Add(new StoreChange(ChangeKind.Delete, operation.Key, null, revision));
                    continue;
                }

                var held = _store.GetValueOrDefault(operation.Key);
                var item = new StoreItem(operation.Key, operation.Value.ToArray(), held?.CreateRevision ?? revision, revision, (held?.Version ?? 0) + 1, held?.Owner ?? 0);
                _store[operation.Key] = item;
                items.Add(item);
                _echoes.Add(new StoreChange(ChangeKind.Put, operation.Key, item, revision));
            }

            _state.ApplyCommitted(new CommittedWrite(write, items, revision), _now);
            return true;
        }

        /// <summary>The watch delivers in revision order: the leader's own writes come back before any later change.</summary>
        private void FlushEchoes()
        {
            foreach (var echo in _echoes)
            {
                _state.Apply(echo, _now);
            }

            _echoes.Clear();
            _state.AdvanceJobsRevision(_revision); // the watch has delivered everything up to now
        }

        private static List<string> Describe(Plan plan) =>
        [
            .. plan.Writes.Select(w =>
                $"{w.Kind} {w.JobId} {w.Detail} | {string.Join(", ", w.Conditions.Select(c => $"{c.Kind} {c.Key} {c.Value}"))} | "
                + string.Join(", ", w.Operations.Select(o => $"{o.Kind} {o.Key} v{o.ExpectedVersion} {Encoding.UTF8.GetString(o.Value.Span)}")))
                .Order(StringComparer.Ordinal),
        ];

        private void PutJob(Rng r)
        {
            var id = JobIdsUsed[r.Next(JobIdsUsed.Length)];
            var states = Enum.GetValues<JobState>();
            var state = states[r.Next(states.Length)];
            var spec = new JobSpec
            {
                Executor = r.Chance(80) ? "sleep" : "shell",
                Priority = r.Next(3),
                Slots = 1 + r.Next(2),
                MaxAttempts = 1 + r.Next(3),
                Group = r.Next(4) switch { 0 => "g0", 1 => "g1", _ => null },
                Concurrency = r.Next(5) switch
                {
                    0 => new JobConcurrency { Key = "k0", Limit = 1 },
                    1 => new JobConcurrency { Key = "k0", Limit = 2 },
                    2 => new JobConcurrency { Key = "k1", Limit = 1 + r.Next(3) },
                    _ => null,
                },
                Constraints = r.Chance(25) ? new Dictionary<string, string> { ["zone"] = r.Chance(50) ? "a" : "b" } : null,
                TimeoutSeconds = r.Chance(30) ? 10 : null,
                Env = r.Chance(15) ? new Dictionary<string, string> { ["X"] = "1" } : null,

                // Dependencies among the same few ids (a job may even name itself or a missing one: the leader must
                // judge a hand-written record the same way whichever order its changes came in).
                DependsOn = r.Chance(30)
                    ? [.. Enumerable.Range(0, 1 + r.Next(3)).Select(_ => JobIdsUsed[r.Next(JobIdsUsed.Length)]).Distinct()
                        .Select(d => new JobDependency { Job = d, On = (DependencyCondition)r.Next(3) })]
                    : null,
            };
            var out_ = state is JobState.Assigned or JobState.Running;
            var record = new JobRecord
            {
                Id = id,
                Spec = spec,
                State = state,
                Attempt = 1 + r.Next(3),
                Interruptions = r.Next(2),
                WorkerId = out_ || r.Chance(20) ? WorkerIds[r.Next(WorkerIds.Length)] : null,
                CreatedAt = T0,
                CancelRequested = r.Chance(15),
                NotBefore = state is JobState.Pending or JobState.Waiting && r.Chance(40) ? _now + TimeSpan.FromSeconds(r.Next(40) - 10) : null,
                FinishedAt = state.IsTerminal() ? _now - TimeSpan.FromSeconds(r.Next(90)) : null,
                IdempotencyKey = r.Chance(20) ? "k" + id : null,
                ScheduleId = r.Chance(20) ? ScheduleIdsUsed[r.Next(ScheduleIdsUsed.Length)] : null,
                WorkflowId = r.Chance(25) ? WorkflowIdsUsed[r.Next(WorkflowIdsUsed.Length)] : null,
            };
            Put(StoreLayout.Job(id), ContractJson.Serialize(record));
        }

        private void PutWorkflow(Rng r)
        {
            var id = WorkflowIdsUsed[r.Next(WorkflowIdsUsed.Length)];
            if (r.Chance(15))
            {
                Delete(StoreLayout.Workflow(id));
                return;
            }

            var states = Enum.GetValues<WorkflowState>();
            var state = states[r.Next(states.Length)];
            var record = new WorkflowRecord
            {
                Id = id,
                State = state,
                Nodes = 1 + r.Next(4),
                CreatedAt = _now - TimeSpan.FromSeconds(r.Next(120)),
                StagingUntil = state == WorkflowState.Staging ? _now + TimeSpan.FromSeconds(r.Next(60) - 40) : null,
                CommittedAt = state == WorkflowState.Committed ? _now - TimeSpan.FromSeconds(r.Next(90)) : null,
                AbortedAt = state == WorkflowState.Aborted ? _now - TimeSpan.FromSeconds(r.Next(90)) : null,
                CancelRequested = r.Chance(15),
            };
            Put(StoreLayout.Workflow(id), ContractJson.Serialize(record));
        }

        private void PutSchedule(Rng r)
        {
            var id = ScheduleIdsUsed[r.Next(ScheduleIdsUsed.Length)];
            if (r.Chance(15))
            {
                Delete(StoreLayout.Schedule(id));
                return;
            }

            var record = new ScheduleRecord
            {
                Id = id,
                Spec = new ScheduleSpec
                {
                    Cron = r.Chance(50) ? "*/10 * * * * *" : "*/7 * * * *",
                    Job = new JobSpec { Executor = "sleep", Group = r.Chance(20) ? "g0" : null },
                    Concurrency = (ConcurrencyPolicy)r.Next(3),
                    CatchUp = (CatchUpPolicy)r.Next(3),
                    StartingDeadlineSeconds = r.Chance(20) ? 15 : null,
                    Paused = r.Chance(15),
                },
                CreatedAt = T0,
                Anchor = T0,
                LastTick = r.Chance(50) ? _now - TimeSpan.FromSeconds(r.Next(60)) : null,
            };
            Put(StoreLayout.Schedule(id), r.Chance(3) ? "not json"u8.ToArray() : ContractJson.Serialize(record));
        }

        /// <summary>A concurrency record written or removed behind the leader's back: it may name a job this view
        /// shows Pending (the record ahead of the job), or be unreadable.</summary>
        private void PutKeyRecord(Rng r)
        {
            var key = ConcurrencyRecord.StoreKeyOf(r.Chance(50) ? "k0" : "k1");
            if (r.Chance(30))
            {
                if (_store.ContainsKey(key))
                {
                    Delete(key);
                }

                return;
            }

            var record = new ConcurrencyRecord { Key = "k?", Job = JobIdsUsed[r.Next(JobIdsUsed.Length)], Attempt = 1 + r.Next(3), Placed = 1, Epoch = 7, At = T0 };
            Put(key, r.Chance(5) ? "not json"u8.ToArray() : ContractJson.Serialize(record));
        }

        private void PutAssignment(Rng r)
        {
            var worker = WorkerIds[r.Next(WorkerIds.Length)];
            var job = JobIdsUsed[r.Next(JobIdsUsed.Length)];
            var attempt = 1 + r.Next(3);
            var states = new[] { AttemptState.Assigned, AttemptState.Running, AttemptState.Running, AttemptState.Succeeded, AttemptState.Failed, AttemptState.Lost, AttemptState.Cancelled };
            var record = new AssignmentRecord
            {
                JobId = job,
                Attempt = attempt,
                Epoch = 7,
                WorkerSession = _sessions.TryGetValue(worker, out var session) && r.Chance(85) ? session : 1,
                Executor = "sleep",
                Slots = 1 + r.Next(2),
                State = states[r.Next(states.Length)],
                CancelRequested = r.Chance(10),
                ExitCode = r.Chance(50) ? r.Next(3) : null,
            };
            var key = StoreLayout.Assignment(worker, job, attempt);
            var value = r.Chance(3) ? "not json"u8.ToArray() : ContractJson.Serialize(record);
            Put(key, value);
        }

        private void PutWorker(Rng r)
        {
            var id = WorkerIds[r.Next(WorkerIds.Length)];
            var record = new WorkerRecord
            {
                Id = id,
                Slots = 1 + r.Next(4),
                Executors = r.Chance(70) ? ["sleep", "echo"] : ["sleep", "shell"],
                Features = r.Chance(80) ? [.. Protocol.Features.All] : [.. Protocol.Features.All.Where(f => f != Protocol.Features.Env)],
                Labels = new Dictionary<string, string> { ["zone"] = r.Chance(50) ? "a" : "b" },
                HeartbeatSeconds = 5,
                Draining = r.Chance(10),
                ProtocolVersion = r.Chance(95) ? Protocol.Version : Protocol.Version + 1,
                Running = r.Chance(50) ? [.. Enumerable.Range(0, r.Next(4)).Select(_ => $"{JobIdsUsed[r.Next(JobIdsUsed.Length)]}.{1 + r.Next(3)}")] : null,
            };

            // Half the time the same incarnation updates its record; otherwise a new session registers.
            if (!_sessions.TryGetValue(id, out var session) || r.Chance(50))
            {
                session = ++_session;
                _sessions[id] = session;
            }

            Put(StoreLayout.Worker(id), ContractJson.Serialize(record), session);
        }

        private void Put(string key, byte[] value, long owner = 0)
        {
            FlushEchoes();
            var revision = ++_revision;
            var held = _store.GetValueOrDefault(key);
            var item = new StoreItem(key, value, held?.CreateRevision ?? revision, revision, (held?.Version ?? 0) + 1, owner);
            _store[key] = item;
            _state.Apply(new StoreChange(ChangeKind.Put, key, item, revision), _now);
            _state.AdvanceJobsRevision(revision);
        }

        private void Delete(string key)
        {
            FlushEchoes();
            if (_store.Remove(key))
            {
                var revision = ++_revision;
                _state.Apply(new StoreChange(ChangeKind.Delete, key, null, revision), _now);
                _state.AdvanceJobsRevision(revision);
            }
        }
    }
}
