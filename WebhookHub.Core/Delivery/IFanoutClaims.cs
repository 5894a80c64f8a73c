namespace WebhookHub.Core.Delivery;

/// <summary>
/// Which node fans out a stored change, when several share one database (PostgreSQL): a change is claimed in the
/// database by one node at a time, with a lease its node renews while it runs the fan-out and its handed-off
/// sends. A node that dies stops renewing; once the lease runs out any worker takes the change, and the fan-out
/// (idempotent) finishes what is owed. Not registered on SQLite: one process, and <see cref="FanoutDispatcher"/>'s
/// in-memory set is the claim.
/// </summary>
public interface IFanoutClaims
{
    /// <summary>How long a claim lasts unless renewed; a dead node's changes are taken over after at most this.</summary>
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    /// <summary>How often a node renews the claims it holds (a node stalled longer than the lease loses them).</summary>
    static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Claims up to <paramref name="max"/> changes for this node, oldest first: never fanned out and unclaimed, or
    /// whose lease ran out (a dead node's, a failed run's, or marked owed). Other nodes' claims are skipped, not waited for.
    /// </summary>
    Task<IReadOnlyList<Guid>> ClaimAsync(int max, CancellationToken ct);

    /// <summary>Extends this node's leases on these changes; answers those it still held (the others were released, or taken).</summary>
    Task<IReadOnlyCollection<Guid>> RenewAsync(IReadOnlyCollection<Guid> policyChangeIds, CancellationToken ct);

    /// <summary>
    /// This node is done with the change: released, or after a failed run left to any node once a back-off has passed.
    /// </summary>
    Task ReleaseAsync(Guid policyChangeId, bool failed, CancellationToken ct);

    /// <summary>Fanned-out changes with work still owed (the minutely sweep found it): made claimable unless a node holds them.</summary>
    Task MarkOwedAsync(IReadOnlyCollection<Guid> policyChangeIds, CancellationToken ct);

    /// <summary>Claims this node's id held before a restart are dead: made claimable at once (only a configured NodeId can match).</summary>
    Task TakeBackOwnAsync(CancellationToken ct);

    /// <summary>Calls <paramref name="wake"/> whenever some node stores a change, until cancelled; reconnects after a lost connection.</summary>
    Task ListenAsync(Action wake, CancellationToken ct);
}
