using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>Which attempts a history view or export asks for; every part is optional.</summary>
public sealed record AttemptFilter(AttemptStatus? Status = null, DateTime? From = null, DateTime? To = null)
{
    /// <summary>Reads the API's query strings; errors are field → sentence, as a 400 names them.</summary>
    public static (AttemptFilter Filter, Dictionary<string, string> Errors) Parse(string? status, DateTime? from, DateTime? to)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        AttemptStatus? parsed = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (Enum.TryParse<AttemptStatus>(status, ignoreCase: true, out var s) && !int.TryParse(status, out _)) parsed = s;
            else errors["status"] = "status must be one of pending, success, failed, retrying.";
        }
        if (from is not null && to is not null && from > to) errors["from"] = "from must not be after to.";
        return (new AttemptFilter(parsed, from?.ToUniversalTime(), to?.ToUniversalTime()), errors);
    }
}

/// <summary>
/// Delivery history: one webhook's attempts (or every visible webhook's, for the global view), filtered,
/// newest first. The API, its export and the history pages all read through here.
/// </summary>
public sealed class DeliveryHistory(WebhookHubDbContext db)
{
    /// <param name="visible">The webhooks the caller may see.</param>
    /// <param name="webhookId">One webhook, or null for all the visible ones.</param>
    public IQueryable<DeliveryAttempt> Query(IQueryable<Webhook> visible, Guid? webhookId, AttemptFilter filter)
    {
        var query = from a in db.Attempts.AsNoTracking()
                    join w in visible on a.WebhookId equals w.Id
                    select a;
        if (webhookId is { } id) query = query.Where(a => a.WebhookId == id);
        if (filter.Status is { } status) query = query.Where(a => a.Status == status);
        if (filter.From is { } from) query = query.Where(a => a.CreatedAt >= from);
        if (filter.To is { } to) query = query.Where(a => a.CreatedAt <= to);
        return query.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id);
    }

    public async Task<(List<DeliveryAttempt> Items, int Total)> PageAsync(
        IQueryable<Webhook> visible, Guid? webhookId, AttemptFilter filter, int skip, int take, CancellationToken ct)
    {
        var query = Query(visible, webhookId, filter);
        var total = await query.CountAsync(ct);
        var items = await query.Skip(Math.Max(0, skip)).Take(take).ToListAsync(ct);
        return (items, total);
    }

    /// <summary>The exact body every attempt of this event sent.</summary>
    public Task<string?> PayloadAsync(string eventId, CancellationToken ct) =>
        db.Events.AsNoTracking().Where(e => e.Id == eventId).Select(e => e.Payload).FirstOrDefaultAsync(ct);
}
