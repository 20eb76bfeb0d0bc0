using ControlPlane.Cli;

// Ctrl-C cancels the running request or wait instead of killing the process, so cpctl exits with 130
// after saying so, and a submit in flight is either sent or not, never half-printed.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

return await CliApp.RunAsync(args, CliEnvironment.FromProcess(), interrupted.Token);
