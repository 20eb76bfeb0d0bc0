using ControlPlane.Etcd.Internal;
using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>Authentication: the token is fetched lazily, sent as "token" metadata and renewed when rejected.</summary>
public sealed partial class EtcdClient
{
    private const string AuthenticatePath = "/etcdserverpb.Auth/Authenticate";

    private readonly SemaphoreSlim _authLock = new(1, 1);
    private volatile string? _token;

    /// <summary>
    /// Authenticates with <see cref="EtcdClientOptions.Username"/> and <see cref="EtcdClientOptions.Password"/> now
    /// and keeps the token for later calls. Optional: calls authenticate on first use and renew the token
    /// whenever etcd rejects it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">No user name is configured.</exception>
    /// <exception cref="EtcdException">Wrong credentials (InvalidArgument "authentication failed") or an unreachable cluster.</exception>
    public async Task AuthenticateAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Username is null)
        {
            throw new InvalidOperationException("EtcdClientOptions.Username is not set.");
        }

        await RenewTokenAsync(_token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The token to send, authenticating first if there is none yet; null when auth is off.</summary>
    internal async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_options.Username is null)
        {
            return null;
        }

        return _token ?? await RenewTokenAsync(null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces <paramref name="rejected"/> with a fresh token. Concurrent callers that saw the same rejected token
    /// share one Authenticate call: whoever comes second finds a different token and uses it.
    /// </summary>
    internal async Task<string> RenewTokenAsync(string? rejected, CancellationToken cancellationToken)
    {
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _token;
            if (current is not null && current != rejected)
            {
                return current;
            }

            var request = new AuthenticateRequest { Name = _options.Username, Password = _options.Password };
            // Authenticate is idempotent (it only issues a token), so it may be retried like a read.
            var response = await CallAsync(AuthenticatePath, request, AuthenticateResponse.Parser, idempotent: true,
                cancellationToken, authenticate: false).ConfigureAwait(false);
            if (rejected is not null)
            {
                EtcdMetrics.RecordReauthentication();
            }

            _token = response.Token;
            Log.Authenticated(_logger, _options.Username!);
            return response.Token;
        }
        finally
        {
            _authLock.Release();
        }
    }
}
