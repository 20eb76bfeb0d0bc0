using System.Diagnostics;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>
/// The component's one <see cref="ActivitySource"/> ("ControlPlane.ZooKeeper"): one client span per request a caller
/// makes (create, get_data, multi …), started in the caller's context when the request is submitted and stopped when
/// its reply (or failure, timeout, cancellation) completes it. Nothing is traced on the read loop: pings,
/// notifications and re-sent watches have no span. With no listener <see cref="Start"/> is one check and returns
/// null, and the request's task is returned as it is.
/// </summary>
internal static class ZooKeeperTracing
{
    public const string SourceName = "ControlPlane.ZooKeeper";

    /// <summary>Longest path kept in <c>db.zookeeper.path</c>; longer ones are cut (a path may be up to the server's
    /// 1 MiB buffer, and a span tag should stay small).</summary>
    public const int MaxPathLength = 256;

    private static readonly ActivitySource Source = new(SourceName, "1.0");

    /// <summary>Starts the span of one request as a child of <see cref="Activity.Current"/>, and leaves
    /// <see cref="Activity.Current"/> as it was: the caller submits synchronously and the span ends later, when the
    /// reply arrives, so it must not become the caller's current activity. Null when nobody listens or samples it.</summary>
    /// <param name="op">The request's operation.</param>
    /// <param name="path">The node as the caller named it (no chroot); null for a multi.</param>
    /// <param name="state">The request's parser state: a multi's operations.</param>
    /// <param name="connection">The connection it goes out on; null when not connected (it fails at once).</param>
    public static Activity? Start(OpCode op, string? path, object? state, Connection? connection)
    {
        if (!Source.HasListeners())
            return null;
        var current = Activity.Current;
        var name = OpNames.Of(op);
        var activity = Source.StartActivity(name, ActivityKind.Client);
        if (activity is null)
            return null;
        Activity.Current = current;
        // The caller's current activity had already stopped (so it cannot be current again): leave none rather
        // than this span.
        if (Activity.Current == activity)
            Activity.Current = null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("db.system", "zookeeper");
            activity.SetTag("db.operation.name", name);
            if (path is not null)
                activity.SetTag("db.zookeeper.path", path.Length <= MaxPathLength ? path : path[..MaxPathLength]);
            if (state is ZooKeeperOperation[] batch)
                activity.SetTag("db.operation.batch.size", batch.Length);
            if (connection is not null)
            {
                activity.SetTag("server.address", connection.ServerHost);
                activity.SetTag("server.port", connection.ServerPort);
            }
        }

        return activity;
    }

    /// <summary>The request's task, which stops <paramref name="activity"/> when it completes: status Error with
    /// <c>error.type</c> (the exception's type) and <c>db.response.status_code</c> (the ZooKeeper code, e.g.
    /// <c>NoNode</c>) on failure. An async method of its own, so that stopping the span, which restores the current
    /// activity of the context it runs in, touches only this method's context.</summary>
    public static async Task<T> Traced<T>(Task<T> reply, Activity activity)
    {
        try
        {
            return await reply.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.Message);
            if (activity.IsAllDataRequested)
            {
                activity.SetTag("error.type", ex.GetType().FullName);
                if (ex is ZooKeeperException zk)
                    activity.SetTag("db.response.status_code", zk.Code.ToString());
            }

            throw;
        }
        finally
        {
            activity.Stop();
        }
    }
}
