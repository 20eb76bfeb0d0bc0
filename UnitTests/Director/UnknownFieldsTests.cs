using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ControlPlane.UnitTests.Director;

public sealed class UnknownFieldsTests
{
    [Fact]
    public void Every_unknown_field_is_found_at_every_depth_and_map_keys_and_free_form_values_are_data()
    {
        using var document = JsonDocument.Parse("""
            {"name":"x","nmae":1,
             "inner":{"value":"v","vlaue":2},
             "steps":[{"value":"a"},{"extra":true}],
             "byName":{"k":{"bad":1},"ok":{"value":"b"}},
             "labels":{"anything":"goes"},
             "payload":{"free":{"form":[1]}},
             "open":{"whatever":1},
             "withRest":{"a":"1","b":"2"},
             "Count":3,
             "missing":null}
            """);

        var found = UnknownFields.Find<Outer>(document.RootElement);

        Assert.Equal(["nmae", "inner.vlaue", "steps[1].extra", "byName.k.bad", "missing"], found.Select(f => f.Path));
        Assert.Contains("Known here: name, inner, steps, byName, labels, payload, open, withRest, count.", found[0].Message, StringComparison.Ordinal);
        Assert.Contains("Known here: value.", found[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_with_unknown_fields_and_a_malformed_one_is_refused_naming_all_of_them()
    {
        var (spec, problem) = SpecReader.Parse<JobSpec>(Utf8("""{"executor":"shell","command":["/bin/true"],"maxAttemps":5,"lables":{},"slots":"many"}"""));

        Assert.Null(spec);
        var errors = Assert.IsType<ValidationProblem>(problem).ProblemDetails.Errors;
        Assert.Equal(["lables", "maxAttemps", "slots"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Single(errors["maxAttemps"]);
        Assert.StartsWith("Unknown field", errors["maxAttemps"][0], StringComparison.Ordinal);
        Assert.Contains("Wrong JSON type", errors["slots"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_of_known_fields_reads_as_before()
    {
        var (spec, problem) = SpecReader.Parse<JobSpec>(Utf8("""{"executor":"shell","command":["/bin/true"],"MaxAttempts":5,"env":{"maxAttemps":"1"}}"""));

        Assert.Null(problem);
        Assert.Equal(5, spec!.MaxAttempts);
        Assert.Equal("1", spec.Env!["maxAttemps"]);
    }

    [Fact]
    public void Store_records_stay_tolerant_of_fields_they_do_not_know()
    {
        // Only request bodies are strict: a newer writer's records must still read on an older director or agent.
        var spec = ContractJson.Deserialize<JobSpec>(Utf8("""{"executor":"shell","command":["/bin/true"],"addedLater":1}"""));

        Assert.Equal("shell", spec.Executor);
        Assert.Equal(JsonUnmappedMemberHandling.Disallow, UnknownFields.Options.UnmappedMemberHandling);
    }

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    public sealed record Outer
    {
        public string? Name { get; init; }

        public Inner? Inner { get; init; }

        public IReadOnlyList<Inner>? Steps { get; init; }

        public IReadOnlyDictionary<string, Inner>? ByName { get; init; }

        public IReadOnlyDictionary<string, string>? Labels { get; init; }

        public JsonElement? Payload { get; init; }

        public Open? Open { get; init; }

        public WithRest? WithRest { get; init; }

        public int Count { get; init; }
    }

    public sealed record Inner
    {
        public string? Value { get; init; }
    }

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    public sealed record Open
    {
        public string? Known { get; init; }
    }

    public sealed class WithRest
    {
        public string? A { get; init; }

        [JsonExtensionData]
        public Dictionary<string, JsonElement>? Rest { get; set; }
    }
}
