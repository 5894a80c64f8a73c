using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Web.Features.Webhooks;

/// <summary>What the webhooks list shows beside each row: owner, last attempt and the last day's success rate (from the minute rollups).</summary>
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

    /// <summary>
    /// Small queries for one page of webhooks, never for the whole table: owners, the day's rollups
    /// summed per webhook, and each webhook's latest attempt (one index seek each).
    /// </summary>
    public static async Task<Dictionary<Guid, WebhookRowStats>> ForAsync(
        WebhookHubDbContext db, IReadOnlyList<Webhook> webhooks, DateTime now, CancellationToken ct)
    {
        var ids = webhooks.Select(w => w.Id).ToList();
        var userIds = webhooks.Select(w => w.UserId).Distinct().ToList();
        var owners = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, ct);
        var since = DeliveryStats.Since(now, Window);
        var recent = await db.Rollups
            .Where(r => ids.Contains(r.WebhookId) && r.SpanMinutes == Rollup.Hour && r.Start >= since)
            .GroupBy(r => r.WebhookId)
            .Select(g => new { WebhookId = g.Key, Count = g.Sum(r => r.Succeeded + r.Retrying + r.Failed), Succeeded = g.Sum(r => r.Succeeded) })
            .ToDictionaryAsync(g => g.WebhookId, ct);
        // Each webhook's latest attempt, one query each: the first entry of its (webhook_id, created_at, id)
        // index, whatever the history's size. (One query for all would read every attempt of the page's webhooks.)
        var last = new Dictionary<Guid, (DateTime LastAttemptAt, AttemptStatus Status)>();
        foreach (var id in ids)
            if (await db.Attempts.AsNoTracking().Where(a => a.WebhookId == id).OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
                    .Select(a => new { a.CreatedAt, a.Status }).FirstOrDefaultAsync(ct) is { } latest)
                last[id] = (latest.CreatedAt, latest.Status);

        return webhooks.ToDictionary(w => w.Id, w =>
        {
            recent.TryGetValue(w.Id, out var r);
            var l = last.TryGetValue(w.Id, out var found) ? found : ((DateTime, AttemptStatus)?)null;
            return new WebhookRowStats(owners.GetValueOrDefault(w.UserId), l?.Item1, l?.Item2,
                r?.Count ?? 0, r is { Count: > 0 } ? (double)r.Succeeded / r.Count : null);
        });
    }
}
