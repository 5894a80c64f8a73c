using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Web.Features.Webhooks;

/// <summary>What the webhooks list shows beside each row: owner, last delivery and the last day's success rate.</summary>
public sealed record WebhookRowStats(string? OwnerEmail, DateTime? LastAttemptAt, AttemptStatus? LastStatus, int Attempts, double? SuccessRate)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>
    /// Health as a person reads it: switched off, quiet, fine, shaky or failing. The thresholds are the
    /// list's own opinion; the monitoring dashboard has the exact figures.
    /// </summary>
    public (string Label, MudBlazor.Color Color) Health(Webhook webhook) => (webhook.IsActive, SuccessRate) switch
    {
        (false, _) => ("disabled", MudBlazor.Color.Default),
        (true, null) => ("no traffic", MudBlazor.Color.Info),
        (true, >= 0.95) => ("healthy", MudBlazor.Color.Success),
        (true, >= 0.8) => ("degraded", MudBlazor.Color.Warning),
        _ => ("failing", MudBlazor.Color.Error),
    };

    /// <summary>Two small queries for one page of webhooks, never for the whole table.</summary>
    public static async Task<Dictionary<Guid, WebhookRowStats>> ForAsync(
        WebhookHubDbContext db, IReadOnlyList<Webhook> webhooks, DateTime now, CancellationToken ct)
    {
        var ids = webhooks.Select(w => w.Id).ToList();
        var userIds = webhooks.Select(w => w.UserId).Distinct().ToList();
        var owners = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, ct);
        var since = now - Window;
        var recent = await db.Attempts.AsNoTracking()
            .Where(a => ids.Contains(a.WebhookId) && a.CreatedAt >= since)
            .GroupBy(a => a.WebhookId)
            .Select(g => new { WebhookId = g.Key, Count = g.Count(), Succeeded = g.Count(a => a.Status == AttemptStatus.Success) })
            .ToDictionaryAsync(g => g.WebhookId, ct);
        // Each webhook's latest delivery, as a correlated subquery every provider translates.
        var latest = await db.Deliveries.AsNoTracking()
            .Where(d => ids.Contains(d.WebhookId) && d.LastAttemptAt != null
                        && d.LastAttemptAt == db.Deliveries.Where(x => x.WebhookId == d.WebhookId).Max(x => x.LastAttemptAt))
            .Select(d => new { d.WebhookId, d.LastAttemptAt, d.Status })
            .ToListAsync(ct);
        var last = latest.DistinctBy(d => d.WebhookId).ToDictionary(d => d.WebhookId);

        return webhooks.ToDictionary(w => w.Id, w =>
        {
            recent.TryGetValue(w.Id, out var r);
            last.TryGetValue(w.Id, out var l);
            AttemptStatus? lastStatus = l?.Status switch
            {
                DeliveryStatus.Success => AttemptStatus.Success,
                DeliveryStatus.Failed => AttemptStatus.Failed,
                DeliveryStatus.Retrying => AttemptStatus.Retrying,
                null => null,
                _ => AttemptStatus.Pending,
            };
            return new WebhookRowStats(owners.GetValueOrDefault(w.UserId), l?.LastAttemptAt, lastStatus,
                r?.Count ?? 0, r is { Count: > 0 } ? (double)r.Succeeded / r.Count : null);
        });
    }
}
