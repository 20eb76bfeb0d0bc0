using ControlPlane.Contracts;
using ControlPlane.Coordination;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agents;

/// <summary>Start-up validation of <see cref="AgentOptions"/>: every failure names the setting and the fix.</summary>
internal sealed class AgentOptionsValidator(IOptions<ControlPlane.Coordination.Hosting.StoreOptions> store) : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        List<string> errors = [];
        if (options.Id is not null && !IsKeySegment(options.Id))
        {
            errors.Add($"Agent:Id '{options.Id}' must be 1-128 characters of [A-Za-z0-9._:@-].");
        }

        if (store.Value.Username is { Length: > 0 } user && options.Id != user)
        {
            errors.Add($"Agent:Id '{options.Id}' differs from Store:Username '{user}': an agent with store credentials is the worker its " +
                "identity names (its permissions cover only that worker's keys). Leave Agent:Id unset, or start the agent with its own identity (cpctl store add-agent).");
        }

        if (Cells.Problem(options.Cell) is { } cellProblem)
        {
            errors.Add($"Agent:Cell: {cellProblem}");
        }
        else if (options.Cell != Cells.Default && store.Value.Username is { Length: > 0 })
        {
            errors.Add($"Agent:Cell '{options.Cell}' with Store:Username: store identities grant an agent the default cell's keys only " +
                "(docs/cells.md, limits). Run agents with identities in the default cell, or without identities in a named cell.");
        }

        if (options.FaultInjection.FailWithFeature is { } bad && Contracts.Rollouts.RolloutShares.FeatureProblem(bad) is { } badProblem)
        {
            errors.Add($"Agent:FaultInjection:FailWithFeature: {badProblem}");
        }

        if (options.Slots is < 1 or > Limits.MaxSlots)
        {
            errors.Add($"Agent:Slots must be between 1 and {Limits.MaxSlots}; got {options.Slots}.");
        }

        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || options.HeartbeatInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Agent:HeartbeatInterval must be between 100 ms and 10 min; got {options.HeartbeatInterval}.");
        }

        // Above half the session timeout a healthy agent, whose keepalives land every third of it, would keep
        // killing its own jobs; at or above the timeout it would never run anything.
        var sessionTimeout = store.Value.SessionTimeout;
        if (options.FencingMargin is { } margin && (margin <= TimeSpan.Zero || margin > sessionTimeout / 2))
        {
            errors.Add($"Agent:FencingMargin must be positive and at most half of Store:SessionTimeout ({sessionTimeout / 2}); got {margin}.");
        }

        // Below two intervals one late beat would make a healthy agent kill its own jobs.
        if (options.BeatFence is { } lease && (lease < options.HeartbeatInterval * 2 || lease > TimeSpan.FromHours(1)))
        {
            errors.Add($"Agent:BeatFence must be between twice Agent:HeartbeatInterval ({options.HeartbeatInterval * 2}) and 1 h; got {lease}.");
        }

        if (options.DrainTimeout < TimeSpan.Zero || options.DrainTimeout > TimeSpan.FromHours(24))
        {
            errors.Add($"Agent:DrainTimeout must be between 0 and 24 h; got {options.DrainTimeout}.");
        }

        foreach (var feature in options.Features ?? [])
        {
            if (!Protocol.Features.All.Contains(feature))
            {
                errors.Add($"Agent:Features lists '{feature}', which is not one of {string.Join(", ", Protocol.Features.All)}.");
            }
        }

        // Both would make the agent say two things about one liveness: it beats either per attempt or per worker.
        if (options.Features is { } features && features.Contains(Protocol.Features.Heartbeat) && features.Contains(Protocol.Features.WorkerHeartbeat))
        {
            errors.Add($"Agent:Features lists both '{Protocol.Features.Heartbeat}' and '{Protocol.Features.WorkerHeartbeat}'; keep one ('{Protocol.Features.Heartbeat}' only for leaders that predate '{Protocol.Features.WorkerHeartbeat}').");
        }

        // The lease is measured on the registration updates that workerHeartbeat makes: without them nothing renews it.
        if (options.Features is { } listed && listed.Contains(Protocol.Features.BeatFence) && !listed.Contains(Protocol.Features.WorkerHeartbeat))
        {
            errors.Add($"Agent:Features lists '{Protocol.Features.BeatFence}' without '{Protocol.Features.WorkerHeartbeat}', whose beats renew it; add '{Protocol.Features.WorkerHeartbeat}' or remove '{Protocol.Features.BeatFence}'.");
        }

        if (options.Http.Port is { } port && port is < 1 or > 65535)
        {
            errors.Add($"Agent:Http:Port must be between 1 and 65535; got {port}.");
        }

        if (!IsIpAddress(options.Http.Address))
        {
            errors.Add($"Agent:Http:Address must be an IP address (127.0.0.1, or 0.0.0.0 for every interface); got '{options.Http.Address}'.");
        }

        foreach (var (key, value) in options.Labels)
        {
            if (key.Length is 0 or > Limits.MaxMapKeyLength || value.Length > Limits.MaxMapValueLength)
            {
                errors.Add($"Agent:Labels:{key} is too long (keys 1-{Limits.MaxMapKeyLength}, values up to {Limits.MaxMapValueLength} characters).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>An IPv4 address in dotted-quad form or an IPv6 address (IPAddress.TryParse alone takes "1" for 0.0.0.1).</summary>
    internal static bool IsIpAddress(string? value) =>
        System.Net.IPAddress.TryParse(value, out var address)
        && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? value.Contains(':', StringComparison.Ordinal) : value.Split('.').Length == 4);

    internal static bool IsKeySegment(string value)
    {
        try
        {
            StoreKeys.Validate(value, nameof(value));
            return value.Length <= 128 && !value.Contains('/', StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>Start-up validation of <see cref="ShellExecutorOptions"/>.</summary>
internal sealed class ShellExecutorOptionsValidator : IValidateOptions<ShellExecutorOptions>
{
    public ValidateOptionsResult Validate(string? name, ShellExecutorOptions options)
    {
        List<string> errors = [];
        if (options.GracePeriod < TimeSpan.Zero || options.GracePeriod > TimeSpan.FromHours(1))
        {
            errors.Add($"Executors:Shell:GracePeriod must be between 0 and 1 h; got {options.GracePeriod}.");
        }

        // The process-group and parent-death guarantees come from util-linux: without it jobs could outlive a fence.
        if (options.Enabled && (!OperatingSystem.IsLinux() || !File.Exists(Executors.ProcessLauncher.SetSid) || !File.Exists(Executors.ProcessLauncher.SetPriv)))
        {
            errors.Add($"Executors:Shell:Enabled needs Linux with {Executors.ProcessLauncher.SetSid} and {Executors.ProcessLauncher.SetPriv} (util-linux).");
        }

        if (options.Allow?.Any(string.IsNullOrWhiteSpace) == true)
        {
            errors.Add("Executors:Shell:Allow has an empty entry.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
