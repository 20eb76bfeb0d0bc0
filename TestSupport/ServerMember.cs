using System.Diagnostics;
using System.Globalization;

namespace ControlPlane.TestSupport;

/// <summary>One server process of a <see cref="ZooKeeperEnsemble"/> or an <see cref="EtcdCluster"/>.</summary>
public sealed class ServerMember
{
    private Process? _process;

    internal ServerMember(int index, string name, int clientPort, string dataDirectory, string logPath)
    {
        Index = index;
        Name = name;
        ClientPort = clientPort;
        DataDirectory = dataDirectory;
        LogPath = logPath;
    }

    /// <summary>Zero-based position in the cluster, the index the kill/stop/start methods take.</summary>
    public int Index { get; }

    /// <summary>The member's name (ZooKeeper: its myid; etcd: its --name).</summary>
    public string Name { get; }

    /// <summary>The port clients connect to on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary><c>127.0.0.1:port</c>, ready to put in a connection string.</summary>
    public string ClientAddress => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{ClientPort}");

    /// <summary>The member's data directory; kept across kill and restart.</summary>
    public string DataDirectory { get; }

    /// <summary>The server's stdout and stderr, appended across restarts.</summary>
    public string LogPath { get; }

    /// <summary>True while the server process is running (it may not be serving yet).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running server's pid, or null when it is not running.</summary>
    public int? ProcessId => IsRunning ? _process!.Id : null;

    internal Process? Process
    {
        get => _process;
        set => _process = value;
    }

    /// <summary>The last lines of the log, for failure messages.</summary>
    public string LogTail(int lines = 30)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException ex)
        {
            return $"(log unavailable: {ex.Message})";
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}@{ClientAddress}{(IsRunning ? string.Empty : " (down)")}";
}
