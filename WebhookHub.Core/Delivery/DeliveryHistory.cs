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
/// Where a history page ends: the last row's (created_at, id), the history's order. Opaque to callers
/// (base64url text); a page after it starts strictly below it, so rows recorded meanwhile (all newer)
/// never shift a page, and none is skipped or repeated.
/// </summary>
public sealed record HistoryCursor(DateTime CreatedAt, Guid Id)
{
    public override string ToString() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{CreatedAt.Ticks}:{Id:N}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static HistoryCursor? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 100) return null;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            var plain = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
            var parts = plain.Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks >= 0 && ticks <= DateTime.MaxValue.Ticks && Guid.TryParse(parts[1], out var id)
                ? new HistoryCursor(new DateTime(ticks, DateTimeKind.Utc), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>One page of history: its rows, the total (counted up to <see cref="DeliveryHistory.CountLimit"/>) and the cursor of the next page.</summary>
public sealed record HistoryPage(List<DeliveryAttempt> Items, int Total, bool TotalIsLowerBound, HistoryCursor? Next);

/// <summary>
/// Delivery history: one webhook's attempts (or every visible webhook's, for the global view), filtered,
/// newest first by (created_at, id). The API, its export and the history pages all read through here.
/// Every filter has an index in that order (<c>DeliveryAttemptConfiguration</c>), so a page reads only
/// its own rows: by cursor, at any depth; by page number (the UI's pager), plus the rows it skips.
/// </summary>
public sealed class DeliveryHistory(WebhookHubDbContext db)
{
    /// <summary>Counting stops here: a total above it is reported as "10,000+" rather than counted row by row.</summary>
    public const int CountLimit = 10_000;

    /// <param name="visible">The webhooks the caller may see.</param>
    /// <param name="webhookId">One webhook, or null for all the visible ones.</param>
    public IQueryable<DeliveryAttempt> Query(IQueryable<Webhook> visible, Guid? webhookId, AttemptFilter filter, HistoryCursor? after = null)
    {
        var query = db.Attempts.AsNoTracking();
        // EXISTS rather than a join, so the attempts' index (in page order) stays the outer loop.
        query = webhookId is { } id
            ? query.Where(a => a.WebhookId == id && visible.Any(w => w.Id == id))
            : query.Where(a => visible.Any(w => w.Id == a.WebhookId));
        if (filter.Status is { } status) query = query.Where(a => a.Status == status);
        if (filter.From is { } from) query = query.Where(a => a.CreatedAt >= from);
        if (filter.To is { } to) query = query.Where(a => a.CreatedAt <= to);
        if (after is { } c)
            // The bound first, alone, so the index range starts at the cursor; the tie on created_at after it.
            query = query.Where(a => a.CreatedAt <= c.CreatedAt && (a.CreatedAt < c.CreatedAt || a.Id.CompareTo(c.Id) < 0));
        return query.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id);
    }

    /// <summary>A page after <paramref name="after"/> (or the first), or at <paramref name="skip"/> rows for a numbered pager.</summary>
    public async Task<HistoryPage> PageAsync(
        IQueryable<Webhook> visible, Guid? webhookId, AttemptFilter filter, HistoryCursor? after, int skip, int take, CancellationToken ct)
    {
        var all = Query(visible, webhookId, filter);
        var counted = await all.Take(CountLimit + 1).CountAsync(ct);
        var query = Query(visible, webhookId, filter, after);
        if (after is null && skip > 0) query = query.Skip(skip);
        var items = await query.Take(take + 1).ToListAsync(ct);
        var more = items.Count > take;
        if (more) items.RemoveAt(items.Count - 1);
        return new HistoryPage(items, Math.Min(counted, CountLimit), counted > CountLimit,
            more ? new HistoryCursor(items[^1].CreatedAt, items[^1].Id) : null);
    }

    /// <summary>The exact body every attempt of this event sent.</summary>
    public Task<string?> PayloadAsync(string eventId, CancellationToken ct) =>
        db.Events.AsNoTracking().Where(e => e.Id == eventId).Select(e => e.Payload).FirstOrDefaultAsync(ct);
}
