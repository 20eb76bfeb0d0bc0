using System.ComponentModel.DataAnnotations;
using ControlPlane.Coordination.Etcd;
using ControlPlane.Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.Hosting;

/// <summary>
/// The <c>Store:*</c> configuration section shared by directors and agents: which store, where, and the
/// session timing. Bound with the Options pattern; <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed class StoreOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Store";

    /// <summary><c>zookeeper</c> or <c>etcd</c>. <value><c>zookeeper</c>.</value></summary>
    public string Backend { get; set; } = "zookeeper";

    /// <summary>Comma-separated <c>host:port</c> of the ensemble or cluster. <value><c>127.0.0.1:2181</c> for ZooKeeper,
    /// <c>127.0.0.1:2379</c> for etcd, when empty.</value></summary>
    public string? Endpoints { get; set; }

    /// <summary>Key root: every key lives under <c>/&lt;Root&gt;/</c>. One leading slash, as zkCli.sh and etcdctl users
    /// write it, is allowed and means the same root (<see cref="EffectiveRoot"/>). <value><c>controlplane</c>.</value></summary>
    public string Root { get; set; } = "controlplane";

    /// <summary>Session timeout (ZooKeeper) or lease TTL (etcd). Bounds how fast a dead process is noticed, and how
    /// long a process cut off from the store keeps working before it stops itself. <value>10 s.</value></summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one request may wait for its answer. <value>5 s.</value></summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>This process's store identity (etcd user), when the store has identities (docs/operations.md, "Identities
    /// and permissions"). An agent with one uses it as its worker id.</summary>
    public string? Username { get; set; }

    /// <summary>The identity's password (never logged).</summary>
    public string? Password { get; set; }

    /// <summary>TLS to the store's servers (<c>Store:Tls:CaFile</c>, <c>CertFile</c>, <c>KeyFile</c>, <c>ServerName</c>):
    /// on when <see cref="StoreTlsOptions.CaFile"/> is set, plaintext otherwise.</summary>
    public StoreTlsOptions Tls { get; set; } = new();

    /// <summary>The parsed <see cref="Backend"/>.</summary>
    public StoreBackend ParsedBackend => Backend.Trim().ToUpperInvariant() switch
    {
        "ZOOKEEPER" or "ZK" => StoreBackend.ZooKeeper,
        "ETCD" => StoreBackend.Etcd,
        _ => throw new ValidationException($"Store:Backend must be 'zookeeper' or 'etcd'; got '{Backend}'."),
    };

    /// <summary>The endpoints, or the backend's local default.</summary>
    public string EffectiveEndpoints => string.IsNullOrWhiteSpace(Endpoints)
        ? ParsedBackend == StoreBackend.Etcd ? "127.0.0.1:2379" : "127.0.0.1:2181"
        : Endpoints.Trim();

    /// <summary><see cref="Root"/> without its one optional leading slash: <c>/myroot</c> and <c>myroot</c> are the same
    /// root. Only that slash is dropped; anything else that is not a key (<c>//myroot</c>, <c>myroot/</c>) stays invalid.</summary>
    public string EffectiveRoot => Root is ['/', .. var rest] ? rest : Root;

    /// <summary>How many members <see cref="EffectiveEndpoints"/> lists.</summary>
    public int EndpointCount => EffectiveEndpoints.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>A warning when <see cref="EndpointCount"/> is even (a store of 2 or 4 members tolerates no more failures
    /// than one of 1 or 3 and needs a larger quorum), else null. Not an error: an even list may name part of a larger
    /// store, and a store keeps working while a member is being replaced.</summary>
    public string? EvenEndpointsWarning() => EndpointCount % 2 == 0
        ? $"Store:Endpoints lists {EndpointCount} members: an even count tolerates no more failures than {EndpointCount - 1} and needs a larger quorum; run 3 or 5 members and list them all"
        : null;

    /// <summary>Throws <see cref="ValidationException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        _ = ParsedBackend;
        foreach (var endpoint in EffectiveEndpoints.Split(',', StringSplitOptions.TrimEntries))
        {
            var colon = endpoint.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new ValidationException($"Store:Endpoints lists host:port pairs separated by commas; '{endpoint}' is not one.");
            }
        }

        try
        {
            StoreKeys.Validate(EffectiveRoot, nameof(Root));
        }
        catch (ArgumentException e)
        {
            throw new ValidationException($"Store:Root is not a valid key: {e.Message}");
        }

        if (SessionTimeout < TimeSpan.FromSeconds(2) || SessionTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ValidationException($"Store:SessionTimeout must be between 2 s and 5 min; got {SessionTimeout}.");
        }

        if (!string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Password))
        {
            throw new ValidationException($"Store:Password is required with Store:Username ('{Username}'); set it, e.g. as Store__Password in the environment.");
        }

        if (Username is not null && Username.Contains(':', StringComparison.Ordinal))
        {
            throw new ValidationException($"Store:Username '{Username}' must not contain ':' (ZooKeeper digest ids use it; identities are [A-Za-z0-9._@-]).");
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ValidationException($"Store:RequestTimeout must be positive and at most 1 min; got {RequestTimeout}.");
        }

        (Tls ?? throw new ValidationException("Store:Tls must not be null.")).Validate();
    }

    /// <summary>Connects to the configured store; the store's session is open when this returns.</summary>
    /// <exception cref="StoreException">The store could not be reached.</exception>
    /// <exception cref="StoreTlsException">The TLS handshake with the servers failed (the message says why).</exception>
    public async Task<ICoordinationStore> ConnectAsync(ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        Validate();
        // Read once more here (Validate read them too): a connect uses the files as they are now.
        var tls = Tls.Load();
        if (ParsedBackend == StoreBackend.Etcd)
        {
            return await EtcdCoordinationStore.ConnectAsync(
                new EtcdStoreOptions
                {
                    Endpoints = EffectiveEndpoints,
                    Root = EffectiveRoot,
                    SessionTtl = SessionTimeout,
                    RequestTimeout = RequestTimeout,
                    Username = Username,
                    Password = Password,
                    Tls = tls?.ToEtcd(),
                    TimeProvider = timeProvider,
                },
                loggerFactory,
                cancellationToken).ConfigureAwait(false);
        }

        return await ZooKeeperCoordinationStore.ConnectAsync(
            new ZooKeeperStoreOptions
            {
                ConnectionString = EffectiveEndpoints,
                Root = EffectiveRoot,
                SessionTimeout = SessionTimeout,
                RequestTimeout = RequestTimeout,
                Tls = tls?.ToZooKeeper(),
                Username = Username,
                Password = Password,
                TimeProvider = timeProvider,
            },
            loggerFactory,
            cancellationToken).ConfigureAwait(false);
    }
}
