using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace ControlPlane.Etcd.Internal;

/// <summary>Parsing of grpc-status / grpc-message and encoding of grpc-timeout.</summary>
internal static class GrpcStatus
{
    /// <summary>
    /// Finds the call's status: in the trailers normally, or in the headers for a trailers-only response
    /// (an error before any message). Returns null when neither has one (the body is not finished yet).
    /// </summary>
    public static (GrpcStatusCode Code, string Message)? Find(HttpHeaders? headers, HttpHeaders? trailers)
    {
        return TryRead(trailers) ?? TryRead(headers);
    }

    private static (GrpcStatusCode Code, string Message)? TryRead(HttpHeaders? headers)
    {
        if (headers is null || !headers.TryGetValues("grpc-status", out var statuses))
        {
            return null;
        }

        var code = ParseCode(statuses.FirstOrDefault());
        var message = headers.TryGetValues("grpc-message", out var messages) ? PercentDecode(messages.FirstOrDefault() ?? "") : "";
        return (code, message);
    }

    /// <summary>Parses a grpc-status value; anything unparseable is Unknown, as the spec says.</summary>
    public static GrpcStatusCode ParseCode(string? value)
    {
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 0 and <= 16
            ? (GrpcStatusCode)code
            : GrpcStatusCode.Unknown;
    }

    /// <summary>
    /// Decodes grpc-message: UTF-8 bytes percent-encoded (PROTOCOL-HTTP2.md). Malformed escapes are kept
    /// literally rather than failing the call, because the message is informational.
    /// </summary>
    public static string PercentDecode(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length
                && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                // Header values are ASCII; anything else is passed through as UTF-8.
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// Encodes a deadline as grpc-timeout: at most 8 digits and a unit. Milliseconds while they fit, rounded up
    /// so the server never gives up before the client does.
    /// </summary>
    public static string EncodeTimeout(TimeSpan timeout)
    {
        var ms = (long)Math.Ceiling(Math.Max(timeout.TotalMilliseconds, 1));
        if (ms < 100_000_000)
        {
            return ms.ToString(CultureInfo.InvariantCulture) + "m";
        }

        var s = Math.Min((long)Math.Ceiling(timeout.TotalSeconds), 99_999_999);
        return s.ToString(CultureInfo.InvariantCulture) + "S";
    }
}
