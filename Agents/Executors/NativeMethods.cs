using System.ComponentModel;
using System.Runtime.InteropServices;

namespace ControlPlane.Agents.Executors;

/// <summary>The libc calls .NET does not offer: signals to process groups, and appends that are atomic per line.</summary>
internal static partial class NativeMethods
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    // Linux values (x86-64 and arm64 agree).
    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OAppend = 0x400;
    private const int OCloExec = 0x80000;
    private const int EIntr = 4;

    /// <summary>Sends <paramref name="signal"/> to the process group <paramref name="processGroupId"/>; when the group
    /// does not exist yet (the child has not reached setsid), to the process itself. False when neither exists.</summary>
    public static bool SignalGroup(int processGroupId, int signal) =>
        Kill(-processGroupId, signal) == 0 || Kill(processGroupId, signal) == 0;

    /// <summary>Opens <paramref name="path"/> for appending (created 0644 when missing).</summary>
    public static int OpenAppend(string path)
    {
        var fd = Open(path, OWrOnly | OCreat | OAppend | OCloExec, Convert.ToInt32("644", 8));
        return fd >= 0 ? fd : throw new IOException($"Cannot open {path} for appending: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
    }

    /// <summary>Writes all of <paramref name="data"/> (one write(2) unless the kernel takes less).</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var written = Write(fd, data, (nint)data.Length);
            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                throw new IOException($"Cannot append to the execution log: {new Win32Exception(errno).Message}");
            }

            data = data[(int)written..];
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, ReadOnlySpan<byte> data, nint count);
}
