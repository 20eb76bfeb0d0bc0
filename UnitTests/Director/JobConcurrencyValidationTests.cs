using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Director.Api;

namespace ControlPlane.UnitTests.Director;

/// <summary>The shape of <c>concurrency</c> (issue 19): a key and a limit, each named when wrong, on jobs and on schedules' jobs.</summary>
public sealed class JobConcurrencyValidationTests
{
    private static IEnumerable<string> Fields(JobConcurrency? concurrency) =>
        JobSpecValidator.Validate(new JobSpec { Executor = "echo", Concurrency = concurrency }).Select(e => e.Field);

    [Fact]
    public void A_key_and_a_limit_in_range_are_accepted()
    {
        Assert.Empty(Fields(null));
        Assert.Empty(Fields(new JobConcurrency { Key = "k", Limit = 1 }));
        Assert.Empty(Fields(new JobConcurrency { Key = new string('é', Limits.MaxConcurrencyKeyLength), Limit = Limits.MaxConcurrencyLimit }));
        Assert.Empty(Fields(new JobConcurrency { Key = "tenant:42/api usage", Limit = 5 }));
    }

    [Theory]
    [InlineData("", 1, "concurrency.key")]
    [InlineData("a\nb", 1, "concurrency.key")]
    [InlineData("k", 0, "concurrency.limit")]
    [InlineData("k", -3, "concurrency.limit")]
    [InlineData("k", Limits.MaxConcurrencyLimit + 1, "concurrency.limit")]
    public void A_bad_key_or_limit_is_named(string key, int limit, string field)
    {
        Assert.Equal([field], Fields(new JobConcurrency { Key = key, Limit = limit }));
    }

    [Fact]
    public void A_key_too_long_and_a_missing_limit_are_both_named()
    {
        var errors = JobSpecValidator.Validate(new JobSpec { Executor = "echo", Concurrency = new JobConcurrency { Key = new string('k', Limits.MaxConcurrencyKeyLength + 1) } });

        Assert.Equal(["concurrency.key", "concurrency.limit"], errors.Select(e => e.Field));
        Assert.Contains("between 1 and 100000; got 0", errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_json_an_empty_object_lacks_both_and_a_schedules_job_may_carry_a_limit()
    {
        var spec = ContractJson.Deserialize<JobSpec>("""{"executor":"echo","concurrency":{}}"""u8);
        Assert.Equal(["concurrency.key", "concurrency.limit"], JobSpecValidator.Validate(spec).Select(e => e.Field));

        var schedule = new ScheduleSpec { Cron = "*/5 * * * *", Job = new JobSpec { Executor = "echo", Concurrency = new JobConcurrency { Key = "nightly", Limit = 2 } } };
        Assert.Empty(ScheduleValidator.Validate(schedule));
        Assert.Equal(["job.concurrency.limit"], ScheduleValidator.Validate(schedule with { Job = schedule.Job! with { Concurrency = new JobConcurrency { Key = "nightly" } } }).Select(e => e.Field));
    }
}
