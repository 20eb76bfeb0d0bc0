namespace ControlPlane.ZooKeeper.Internal;

/// <summary>The session's watches by client path (without chroot). Touched by the read loop (register on
/// success, dispatch on notification) and by callers (remove), hence one lock; nothing user-supplied runs
/// under it: one-shot sinks complete asynchronously and persistent sinks are non-blocking channel writes.</summary>
internal sealed class WatchRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> _exist = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> _child = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PersistentWatch>> _persistent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PersistentWatch>> _recursive = new(StringComparer.Ordinal);

    /// <summary>Watches ended because their reader fell behind (for logs; the server keeps notifying until reconnect).</summary>
    public event Action<PersistentWatch>? Overflowed;

    public bool IsEmpty
    {
        get
        {
            lock (_lock)
                return _data.Count + _exist.Count + _child.Count + _persistent.Count + _recursive.Count == 0;
        }
    }

    public void Register(WatchRegistration registration)
    {
        lock (_lock)
        {
            switch (registration.Kind)
            {
                case WatchKind.Data: Add(_data, registration.Path, (TaskCompletionSource<WatchedEvent>)registration.Sink); break;
                case WatchKind.Exist: Add(_exist, registration.Path, (TaskCompletionSource<WatchedEvent>)registration.Sink); break;
                case WatchKind.Child: Add(_child, registration.Path, (TaskCompletionSource<WatchedEvent>)registration.Sink); break;
                case WatchKind.Persistent: Add(_persistent, registration.Path, (PersistentWatch)registration.Sink); break;
                case WatchKind.PersistentRecursive: Add(_recursive, registration.Path, (PersistentWatch)registration.Sink); break;
            }
        }
    }

    /// <summary>Routes one notification to every local watch it concerns (ZooKeeper's trigger rules).</summary>
    public void Dispatch(WatchEventType type, string path)
    {
        var e = new WatchedEvent(type, path);
        List<TaskCompletionSource<WatchedEvent>>? fired = null;
        List<PersistentWatch>? overflowed = null;
        lock (_lock)
        {
            switch (type)
            {
                case WatchEventType.NodeCreated:
                case WatchEventType.NodeDataChanged:
                    Take(_data, path, ref fired);
                    Take(_exist, path, ref fired);
                    break;
                case WatchEventType.NodeDeleted:
                    Take(_data, path, ref fired);
                    Take(_exist, path, ref fired);
                    Take(_child, path, ref fired);
                    break;
                case WatchEventType.NodeChildrenChanged:
                    Take(_child, path, ref fired);
                    break;
            }

            if (_persistent.TryGetValue(path, out var exact))
                DeliverAll(exact, e, ref overflowed);

            // Recursive watches see node events of the path and all descendants, never child-list events
            // (the server only sends NodeChildrenChanged for a standard or persistent watch on the parent).
            if (_recursive.Count > 0 && type != WatchEventType.NodeChildrenChanged)
            {
                for (var ancestor = path; ; ancestor = PathValidation.Parent(ancestor))
                {
                    if (_recursive.TryGetValue(ancestor, out var list))
                        DeliverAll(list, e, ref overflowed);
                    if (ancestor == "/")
                        break;
                }
            }

            if (overflowed is not null)
                foreach (var w in overflowed)
                    RemoveUnlocked(w);
        }

        if (fired is not null)
            foreach (var tcs in fired)
                tcs.TrySetResult(e);
        if (overflowed is not null)
            foreach (var w in overflowed)
                Overflowed?.Invoke(w);
    }

    /// <summary>Paths to re-register on a new connection, per setWatches2 list.</summary>
    public (List<string> Data, List<string> Exist, List<string> Child, List<string> Persistent, List<string> Recursive) Snapshot()
    {
        lock (_lock)
            return ([.. _data.Keys], [.. _exist.Keys], [.. _child.Keys], [.. _persistent.Keys], [.. _recursive.Keys]);
    }

    /// <summary>Removes local watches of <paramref name="type"/> on <paramref name="path"/>; completes one-shot
    /// ones with a *WatchRemoved event and ends persistent ones. Returns whether any existed.</summary>
    public bool Remove(WatcherType type, string path)
    {
        List<TaskCompletionSource<WatchedEvent>>? data = null, child = null;
        List<PersistentWatch>? persistent = null;
        lock (_lock)
        {
            // Exists watches are data watches to the server (WatcherType.Data removes both there too).
            if (type is WatcherType.Data or WatcherType.Any)
            {
                Take(_data, path, ref data);
                Take(_exist, path, ref data);
            }

            if (type is WatcherType.Children or WatcherType.Any)
                Take(_child, path, ref child);
            if (type is WatcherType.Any && _persistent.Remove(path, out var p))
                (persistent ??= []).AddRange(p);
            if (type is WatcherType.Any && _recursive.Remove(path, out var r))
                (persistent ??= []).AddRange(r);
        }

        foreach (var tcs in data ?? [])
            tcs.TrySetResult(new WatchedEvent(WatchEventType.DataWatchRemoved, path));
        foreach (var tcs in child ?? [])
            tcs.TrySetResult(new WatchedEvent(WatchEventType.ChildWatchRemoved, path));
        foreach (var w in persistent ?? [])
        {
            w.TryDeliver(new WatchedEvent(WatchEventType.PersistentWatchRemoved, path));
            w.End(null);
        }

        return data is not null || child is not null || persistent is not null;
    }

    /// <summary>True when any local watch of any kind remains on <paramref name="path"/>.</summary>
    public bool HasAny(string path)
    {
        lock (_lock)
            return _data.ContainsKey(path) || _exist.ContainsKey(path) || _child.ContainsKey(path)
                || _persistent.ContainsKey(path) || _recursive.ContainsKey(path);
    }

    /// <summary>After a reconnect: tells every persistent watch that events may have been missed.</summary>
    public void NotifyResync()
    {
        List<PersistentWatch>? overflowed = null;
        lock (_lock)
        {
            foreach (var (path, list) in _persistent)
                DeliverAll(list, new WatchedEvent(WatchEventType.None, path), ref overflowed);
            foreach (var (path, list) in _recursive)
                DeliverAll(list, new WatchedEvent(WatchEventType.None, path), ref overflowed);
            if (overflowed is not null)
                foreach (var w in overflowed)
                    RemoveUnlocked(w);
        }

        if (overflowed is not null)
            foreach (var w in overflowed)
                Overflowed?.Invoke(w);
    }

    /// <summary>Removes one persistent watch; true when it was the last of its mode on its path.</summary>
    public bool RemovePersistent(PersistentWatch watch)
    {
        lock (_lock)
            return RemoveUnlocked(watch);
    }

    /// <summary>Ends every watch: faulted with <paramref name="error"/> (expiry) or canceled/completed (null: close).</summary>
    public void EndAll(Exception? error)
    {
        List<TaskCompletionSource<WatchedEvent>> oneShot = [];
        List<PersistentWatch> persistent = [];
        lock (_lock)
        {
            foreach (var map in new[] { _data, _exist, _child })
            {
                foreach (var list in map.Values)
                    oneShot.AddRange(list);
                map.Clear();
            }

            foreach (var map in new[] { _persistent, _recursive })
            {
                foreach (var list in map.Values)
                    persistent.AddRange(list);
                map.Clear();
            }
        }

        foreach (var tcs in oneShot)
        {
            if (error is null)
                tcs.TrySetCanceled();
            else
                tcs.TrySetException(error);
        }

        foreach (var w in persistent)
            w.End(error);
    }

    private bool RemoveUnlocked(PersistentWatch watch)
    {
        var map = watch.Mode == AddWatchMode.Persistent ? _persistent : _recursive;
        if (!map.TryGetValue(watch.Path, out var list) || !list.Remove(watch))
            return false;
        if (list.Count > 0)
            return false;
        map.Remove(watch.Path);
        return true;
    }

    private static void Add<T>(Dictionary<string, List<T>> map, string path, T sink)
    {
        if (!map.TryGetValue(path, out var list))
            map[path] = list = [];
        list.Add(sink);
    }

    private static void Take<T>(Dictionary<string, List<T>> map, string path, ref List<T>? into)
    {
        if (map.Remove(path, out var list))
            (into ??= []).AddRange(list);
    }

    private static void DeliverAll(List<PersistentWatch> watches, WatchedEvent e, ref List<PersistentWatch>? overflowed)
    {
        foreach (var w in watches)
            if (!w.TryDeliver(e))
                (overflowed ??= []).Add(w);
    }
}
