using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Tests.Persistence;

/// <summary>
/// <see cref="PostgresFanoutClaims"/> on real PostgreSQL, two "nodes" on one database: a stored change is claimed by
/// one of them only, a lease that runs out (a dead node) passes the change on, and a stored change wakes a listener.
/// Each test has its own database: claims see every change in it.
/// </summary>
public sealed class PostgresFanoutClaimsTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();
    private NpgsqlDataSource _source = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        if (PostgresFactAttribute.Server is not null) _source = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_source is not null) await _source.DisposeAsync();
        await _database.DisposeAsync();
    }

    private PostgresFanoutClaims Node(string name) => new(_source, name, NullLogger<PostgresFanoutClaims>.Instance);

    [PostgresFact]
    public async Task Concurrent_claims_of_two_nodes_take_each_change_once_and_together_all_of_them()
    {
        var stored = await StoreChangesAsync(200);
        var (a, b) = (Node("a"), Node("b"));

        var claimedA = new List<Guid>();
        var claimedB = new List<Guid>();
        await Task.WhenAll(ClaimAllAsync(a, claimedA), ClaimAllAsync(b, claimedB));

        Assert.Empty(claimedA.Intersect(claimedB));
        Assert.Equal(stored.Order(), claimedA.Concat(claimedB).Order());
        // Held: nothing is left for a third node.
        Assert.Empty(await Node("c").ClaimAsync(100, CancellationToken.None));
    }

    [PostgresFact]
    public async Task A_released_change_is_settled_and_a_dead_nodes_change_passes_on_when_its_lease_runs_out()
    {
        var stored = await StoreChangesAsync(2);
        var (a, b) = (Node("a"), Node("b"));
        var claimed = await a.ClaimAsync(10, CancellationToken.None);
        Assert.Equal(2, claimed.Count);
        await MarkFannedOutAsync(stored);

        await a.ReleaseAsync(stored[0], failed: false, CancellationToken.None);
        // stored[1]: node a "dies" holding it. Until the lease runs out nobody else may take it.
        Assert.Empty(await b.ClaimAsync(10, CancellationToken.None));
        await ExpireLeaseAsync(stored[1]);
        Assert.Equal([stored[1]], await b.ClaimAsync(10, CancellationToken.None));
        // Node a comes back, renews what it thinks it holds: it no longer does.
        await a.RenewAsync([stored[1]], CancellationToken.None);
        Assert.Equal("b", await OwnerAsync(stored[1]));
        Assert.Null(await OwnerAsync(stored[0]));
    }

    [PostgresFact]
    public async Task A_failed_run_backs_off_and_an_owed_change_is_claimable_again_unless_held()
    {
        var stored = await StoreChangesAsync(3);
        var a = Node("a");
        Assert.Equal(3, (await a.ClaimAsync(10, CancellationToken.None)).Count);
        await MarkFannedOutAsync(stored);
        await a.ReleaseAsync(stored[0], failed: true, CancellationToken.None);
        await a.ReleaseAsync(stored[1], failed: false, CancellationToken.None);
        // stored[0] waits out its back-off; stored[1] is settled; stored[2] is still held.
        Assert.Empty(await a.ClaimAsync(10, CancellationToken.None));

        await a.MarkOwedAsync(stored, CancellationToken.None);
        // Only the settled one becomes claimable: the sweep never takes a change from the node holding it.
        Assert.Equal([stored[1]], await Node("b").ClaimAsync(10, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Storing_a_change_wakes_a_listening_node()
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listening = 0;
        using var stop = new CancellationTokenSource();
        // ListenAsync wakes once as soon as it listens (for what was stored before); the second wake is the NOTIFY.
        var listener = Node("a").ListenAsync(() => { if (Interlocked.Increment(ref listening) >= 2) woken.TrySetResult(); }, stop.Token);
        await WaitAsync(() => Volatile.Read(ref listening) >= 1);

        await StoreChangesAsync(1);
        await woken.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await listener;
    }

    private static async Task ClaimAllAsync(PostgresFanoutClaims node, List<Guid> into)
    {
        while (await node.ClaimAsync(7, CancellationToken.None) is { Count: > 0 } batch) into.AddRange(batch);
    }

    private async Task<List<Guid>> StoreChangesAsync(int count)
    {
        await using var db = _database.NewContext();
        var now = DateTime.UtcNow;
        var changes = Enumerable.Range(0, count).Select(i => new PolicyChange
        {
            Id = Guid.CreateVersion7(), Route = "r", Source = "https://example.gov/r", Diff = "d", DetectedAt = now, CreatedAt = now.AddTicks(i * 10),
        }).ToList();
        db.PolicyChanges.AddRange(changes);
        await db.SaveChangesAsync();
        return changes.Select(c => c.Id).ToList();
    }

    private async Task MarkFannedOutAsync(List<Guid> ids)
    {
        await using var db = _database.NewContext();
        await db.PolicyChanges.Where(p => ids.Contains(p.Id)).ExecuteUpdateAsync(s => s.SetProperty(p => p.FannedOutAt, DateTime.UtcNow));
    }

    private async Task ExpireLeaseAsync(Guid id)
    {
        await using var db = _database.NewContext();
        await db.PolicyChanges.Where(p => p.Id == id).ExecuteUpdateAsync(s => s.SetProperty(p => p.FanOutLeaseUntil, DateTime.UtcNow.AddSeconds(-1)));
    }

    private async Task<string?> OwnerAsync(Guid id)
    {
        await using var db = _database.NewContext();
        return await db.PolicyChanges.Where(p => p.Id == id).Select(p => p.FanOutOwner).SingleAsync();
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < until) await Task.Delay(10);
        Assert.True(condition());
    }
}
