using System.Net;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Requests_without_a_valid_token_are_refused_and_read_only_tokens_cannot_write()
    {
        using (var anonymous = Director.CreateClient(token: null))
        {
            using var response = await anonymous.GetAsync("/v1/jobs");
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

            // Operational endpoints stay open.
            using var health = await anonymous.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var openApi = await anonymous.GetAsync("/openapi/v1.json");
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        }

        using (var wrong = Director.CreateClient("not-the-token-at-all"))
        {
            using var response = await PostJobAsync(wrong, ShellJob());
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        using var readOnly = Director.CreateClient(DirectorHost.ReadOnlyToken);
        using (var write = await PostJobAsync(readOnly, ShellJob()))
        {
            await AssertProblemAsync(write, HttpStatusCode.Forbidden);
        }

        using var read = await readOnly.GetAsync("/v1/jobs");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }
}
