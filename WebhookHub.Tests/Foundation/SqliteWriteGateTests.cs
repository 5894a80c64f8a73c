using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;

namespace WebhookHub.Tests.Foundation;

/// <summary>The gate in front of SQLite's one writer: in order, an urgent write (a report) first, a cancelled waiter skipped.</summary>
public sealed class SqliteWriteGateTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_urgent_write_goes_ahead_of_queued_ones_and_waits_only_for_the_write_in_progress()
    {
        var gate = new SqliteWriteGate();
        var order = new List<string>();
        var release = new TaskCompletionSource();
        var inProgress = gate.RunAsync(async () => { await release.Task; order.Add("in progress"); return 0; }, CancellationToken.None);
        var queued1 = gate.RunAsync(() => { order.Add("queued 1"); return Task.FromResult(0); }, CancellationToken.None);
        var queued2 = gate.RunAsync(() => { order.Add("queued 2"); return Task.FromResult(0); }, CancellationToken.None);
        var urgent = gate.RunAsync(() => { order.Add("urgent"); return Task.FromResult(0); }, CancellationToken.None, urgent: true);
        Assert.False(urgent.IsCompleted);

        release.SetResult();
        await Task.WhenAll(inProgress, queued1, queued2, urgent).WaitAsync(Wait);

        Assert.Equal(["in progress", "urgent", "queued 1", "queued 2"], order);
        Assert.Equal(4, gate.Totals.Writes);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_is_skipped_and_the_gate_is_free_afterwards()
    {
        var gate = new SqliteWriteGate();
        var release = new TaskCompletionSource();
        var inProgress = gate.RunAsync(async () => { await release.Task; return 0; }, CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var ran = false;
        var cancelled = gate.RunAsync(() => { ran = true; return Task.FromResult(0); }, giveUp.Token);

        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Wait));
        release.SetResult();
        await inProgress.WaitAsync(Wait);

        Assert.False(ran);
        // Free again: the next write runs at once.
        Assert.Equal(7, await gate.RunAsync(() => Task.FromResult(7), CancellationToken.None).WaitAsync(Wait));
    }

    [Fact]
    public async Task A_failing_write_frees_the_gate()
    {
        var gate = new SqliteWriteGate();
        await Assert.ThrowsAsync<InvalidOperationException>(() => gate.RunAsync<int>(() => throw new InvalidOperationException(), CancellationToken.None));
        Assert.Equal(1, await gate.RunAsync(() => Task.FromResult(1), CancellationToken.None).WaitAsync(Wait));
    }
}
