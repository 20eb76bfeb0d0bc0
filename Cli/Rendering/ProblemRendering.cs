using System.Globalization;
using System.Net;
using ControlPlane.Client;

namespace ControlPlane.Cli.Rendering;

/// <summary>Error answers on stderr: the problem's title and detail, then one line per field error.</summary>
internal static class ProblemRendering
{
    /// <summary>Writes <paramref name="error"/> for a person, with a hint for the common authentication mistake.</summary>
    public static void Write(TextWriter writer, ControlPlaneException error)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(error);
        var status = error.StatusCode is { } code ? ((int)code).ToString(CultureInfo.InvariantCulture) : "-";
        if (error.Problem is not { } problem)
        {
            // An error answer without a problem document (a proxy's page): its status line. Otherwise (a success cpctl
            // could not read) the library's message says what was wrong with it.
            writer.WriteLine(error.StatusCode is { } failed && (int)failed >= 400
                ? $"error: HTTP {status} {ReasonPhrase(failed)}"
                : $"error: {error.Message}");
        }
        else
        {
            var title = problem.Title ?? $"HTTP {status}";
            writer.WriteLine($"error: {title} ({status})");
            // ASP.NET Core often repeats the title as the detail; saying it twice helps nobody.
            if (!string.IsNullOrEmpty(problem.Detail) && problem.Detail != problem.Title)
            {
                writer.WriteLine($"  {problem.Detail}");
            }

            foreach (var (field, messages) in problem.Errors)
            {
                foreach (var message in messages)
                {
                    writer.WriteLine($"  {field}: {message}");
                }
            }
        }

        if (error.StatusCode == HttpStatusCode.Unauthorized)
        {
            writer.WriteLine("  hint: pass --token or set CONTROLPLANE_TOKEN");
        }
        else if (error.StatusCode == HttpStatusCode.TooManyRequests)
        {
            writer.WriteLine("  hint: nothing was created; the director takes new jobs again once its queue drains. Try again later, raise --retry-for, or submit more slowly");
        }
    }

    /// <summary>The standard reason phrase of <paramref name="status"/>, e.g. <c>Bad Gateway</c>.</summary>
    private static string? ReasonPhrase(HttpStatusCode status)
    {
        using var standard = new HttpResponseMessage(status);
        return standard.ReasonPhrase;
    }
}
