using System.Diagnostics;
using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Persistence.Sqlite;

/// <summary>
/// SQLite has one writer at a time, and Microsoft.Data.Sqlite waits for the write lock synchronously
/// (busy_timeout sleeps on the calling thread). With twenty Hangfire workers and the API writing at
/// once, those sleeps ran on thread-pool threads and starved Kestrel and HttpClient. The app's writes
/// queue here instead: asynchronously, in order, holding no thread. An urgent write (a reported
/// change, one small row a caller is waiting for) goes ahead of every queued one and waits only for
/// the write in progress: during a large fan-out the gate is busy nearly all the time, and a report
/// queued behind the fan-out's batches (or left to SQLite's busy handler) took seconds to answer.
/// </summary>
public sealed class SqliteWriteGate : IWriteGate
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _urgent = new();
    private readonly Queue<TaskCompletionSource> _queued = new();
    private bool _held;
    private long _heldTicks, _waitedTicks, _writes;

    /// <summary>Writes through the gate so far, the time the gate was held, and the time writers waited for it (summed).</summary>
    public (long Writes, TimeSpan Held, TimeSpan Waited) Totals => (Interlocked.Read(ref _writes),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _heldTicks)), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _waitedTicks)));

    public async Task<T> RunAsync<T>(Func<Task<T>> write, CancellationToken ct, bool urgent = false)
    {
        var asked = Stopwatch.GetTimestamp();
        await EnterAsync(urgent, ct);
        var entered = Stopwatch.GetTimestamp();
        try
        {
            return await write();
        }
        finally
        {
            Interlocked.Add(ref _waitedTicks, entered - asked);
            Interlocked.Add(ref _heldTicks, Stopwatch.GetTimestamp() - entered);
            Interlocked.Increment(ref _writes);
            Exit();
        }
    }

    private async ValueTask EnterAsync(bool urgent, CancellationToken ct)
    {
        TaskCompletionSource turn;
        lock (_lock)
        {
            if (!_held)
            {
                _held = true;
                return;
            }
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (urgent ? _urgent : _queued).Enqueue(turn);
        }
        // A cancelled waiter stays in its queue and Exit skips it; if the gate was handed over first, it is ours.
        await using (ct.Register(static t => ((TaskCompletionSource)t!).TrySetCanceled(), turn))
            await turn.Task;
    }

    /// <summary>Hands the gate to the next live waiter, urgent ones first, or frees it.</summary>
    private void Exit()
    {
        while (true)
        {
            TaskCompletionSource? next;
            lock (_lock)
            {
                if (!_urgent.TryDequeue(out next) && !_queued.TryDequeue(out next))
                {
                    _held = false;
                    return;
                }
            }
            if (next.TrySetResult()) return;
        }
    }
}
