using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The latest failure in a window. From the rollups only its period is known (<see cref="At"/> is the
/// start of its minute, hour or day, by window); a live dashboard fills in the rest from the attempt's event.
/// </summary>
public sealed record LastFailure(DateTime At, int? StatusCode, string? Error, Guid? DeliveryId);

/// <summary>
/// One webhook's attempts over a window. <see cref="SuccessRate"/> is successful attempts / all attempts, null without attempts.
/// <see cref="P50Ms"/> and <see cref="P95Ms"/> come from the latency histogram: the upper bound of the bucket holding
/// the percentile, never below the exact value and at most 19% above it (see <see cref="LatencyHistogram"/>).
/// </summary>
public sealed record WebhookHealth(
    Guid WebhookId, string Name, bool IsActive, int Attempts, double? SuccessRate, long? P50Ms, long? P95Ms,
    IReadOnlyDictionary<string, int> CountsByStatus, LastFailure? LastFailure, double? AverageMs = null);

/// <summary>A webhook as the figures need it; <see cref="OwnerId"/> lets a live view keep a customer to its own.</summary>
public sealed record WebhookInfo(Guid Id, string OwnerId, string Name, bool IsActive);

/// <summary>Successful and failed (incl. retried) attempts of one period (minute, hour or day), over the visible webhooks.</summary>
public sealed record PeriodCounts(DateTime Start, int Succeeded, int Failed);

/// <summary>
/// One webhook's rollups summed over a window, and kept current by a live view's events. Not thread-safe.
/// <see cref="TrailingFailures"/>: failed attempts after its last success (counted in periods with no success at or after them).
/// </summary>
public sealed class RollupTotals
{
    public int Succeeded { get; set; }
    public int Retrying { get; set; }
    public int Failed { get; set; }
    public long DurationSumMs { get; set; }
    public long[] Latency { get; } = new long[LatencyHistogram.Buckets];
    public int TrailingFailures { get; set; }
    public LastFailure? LastFailure { get; set; }

    public int Attempts => Succeeded + Retrying + Failed;

    public void Add(AttemptRecorded attempt)
    {
        switch (attempt.Status)
        {
            case AttemptStatus.Success: Succeeded++; TrailingFailures = 0; break;
            case AttemptStatus.Retrying: Retrying++; TrailingFailures++; break;
            default: Failed++; TrailingFailures++; break;
        }
        if (attempt.Status != AttemptStatus.Success)
            LastFailure = new LastFailure(attempt.At, attempt.StatusCode, attempt.Error, attempt.DeliveryId);
        DurationSumMs += attempt.DurationMs;
        Latency[LatencyHistogram.BucketOf(attempt.DurationMs)]++;
    }

    public WebhookHealth ToHealth(WebhookInfo webhook) => new(webhook.Id, webhook.Name, webhook.IsActive, Attempts,
        Attempts == 0 ? null : (double)Succeeded / Attempts,
        LatencyHistogram.Percentile(Latency, 0.50), LatencyHistogram.Percentile(Latency, 0.95),
        new Dictionary<string, int> { ["pending"] = 0, ["success"] = Succeeded, ["failed"] = Failed, ["retrying"] = Retrying },
        LastFailure, Attempts == 0 ? null : (double)DurationSumMs / Attempts);
}

/// <summary>A window read from the rollups: the visible webhooks, their totals, the counts per period and a few latest attempts for the lists.</summary>
public sealed record StatsWindow(
    IReadOnlyList<WebhookInfo> Webhooks, IReadOnlyDictionary<Guid, RollupTotals> Totals, IReadOnlyList<PeriodCounts> PerPeriod,
    IReadOnlyList<AttemptRecorded> Latest, IReadOnlyList<AttemptRecorded> LatestFailures);

/// <summary>
/// Per-webhook success rate, latency percentiles and counts over a window (the monitoring summary, the
/// dashboard, the webhooks list), read from <c>webhook_rollups</c> only: a read costs webhooks × periods
/// in the window (at most 169 per webhook: minutes for up to an hour, hours up to 7 days, days beyond),
/// never how many attempts there were. Windows are whole periods: "the last hour" starts at the start
/// of the minute an hour ago, "24 hours" at the start of the hour 24 hours ago, "30 days" at midnight UTC 30 days ago.
/// </summary>
public sealed class DeliveryStats(WebhookHubDbContext db, TimeProvider time)
{
    public static readonly IReadOnlyDictionary<string, TimeSpan> Windows = new Dictionary<string, TimeSpan>
    {
        ["15m"] = TimeSpan.FromMinutes(15),
        ["1h"] = TimeSpan.FromHours(1),
        ["24h"] = TimeSpan.FromHours(24),
        ["7d"] = TimeSpan.FromDays(7),
        ["30d"] = TimeSpan.FromDays(30),
    };

    /// <summary>The rollup period a window reads and charts: minutes up to an hour, hours up to 7 days, days beyond.</summary>
    public static int SpanFor(TimeSpan window) => window <= TimeSpan.FromHours(1) ? Rollup.Minute : window <= TimeSpan.FromDays(7) ? Rollup.Hour : Rollup.Day;

    public static DateTime Since(DateTime now, TimeSpan window) => Rollup.StartOf(now - window, SpanFor(window));

    public async Task<List<WebhookHealth>> SummarizeAsync(IQueryable<Webhook> visible, TimeSpan window, CancellationToken ct)
    {
        var webhooks = await WebhooksAsync(visible, ct);
        var totals = await TotalsAsync(webhooks.Select(w => w.Id).ToList(), SpanFor(window), Since(time.GetUtcNow().UtcDateTime, window), ct);
        return webhooks.Select(w => totals.GetValueOrDefault(w.Id, new RollupTotals()).ToHealth(w)).ToList();
    }

    /// <summary>What the live dashboard starts from: totals, counts per period, and the latest attempts and failures (<paramref name="latest"/> each, by index).</summary>
    public async Task<StatsWindow> LoadAsync(IQueryable<Webhook> visible, TimeSpan window, DateTime now, int latest, CancellationToken ct)
    {
        var webhooks = await WebhooksAsync(visible, ct);
        var ids = webhooks.Select(w => w.Id).ToList();
        var (span, since) = (SpanFor(window), Since(now, window));
        // The latest attempts first, the totals after: every attempt in these lists is in the totals (a later statement
        // sees at least what an earlier one did), so the live dashboard can tell which events it holds are counted already.
        var recent = await LatestAsync(visible, since, null, latest, ct);
        // One ordered index range each: a single IN (failed, retrying) would sort every failure of the window.
        var failures = (await LatestAsync(visible, since, AttemptStatus.Failed, latest, ct))
            .Concat(await LatestAsync(visible, since, AttemptStatus.Retrying, latest, ct))
            .OrderByDescending(a => a.At).Take(latest).ToList();
        var totals = await TotalsAsync(ids, span, since, ct);
        var perPeriod = await db.Rollups.Where(r => r.SpanMinutes == span && r.Start >= since && ids.Contains(r.WebhookId))
            .GroupBy(r => r.Start)
            .Select(g => new PeriodCounts(g.Key, g.Sum(r => r.Succeeded), g.Sum(r => r.Failed + r.Retrying)))
            .ToListAsync(ct);
        foreach (var failure in failures.DistinctBy(f => f.WebhookId))
            if (totals.TryGetValue(failure.WebhookId, out var t) && t.LastFailure is { } last && failure.At >= last.At)
                t.LastFailure = new LastFailure(failure.At, failure.StatusCode, failure.Error, failure.DeliveryId);
        return new StatsWindow(webhooks, totals, perPeriod.OrderBy(m => m.Start).ToList(), recent, failures);
    }

    private Task<List<WebhookInfo>> WebhooksAsync(IQueryable<Webhook> visible, CancellationToken ct) =>
        visible.Where(w => w.DeletedAt == null).OrderBy(w => w.Name)
            .Select(w => new WebhookInfo(w.Id, w.UserId, w.Name, w.IsActive)).ToListAsync(ct);

    private Task<List<AttemptRecorded>> LatestAsync(IQueryable<Webhook> visible, DateTime since, AttemptStatus? status, int take, CancellationToken ct)
    {
        var query = db.Attempts.AsNoTracking().Where(a => a.CreatedAt >= since && visible.Any(w => w.Id == a.WebhookId && w.DeletedAt == null));
        if (status is { } s) query = query.Where(a => a.Status == s);
        return query.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id).Take(take)
            .Select(a => new AttemptRecorded(a.WebhookId, a.DeliveryId, a.EventType, a.AttemptNumber, a.Status, a.StatusCode,
                a.DurationMs, a.ErrorMessage, a.CreatedAt))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Each webhook's rollups summed over the window: one GROUP BY over the rollup rows (the histogram's
    /// 61 columns are summed in SQL, written from the model's names like <see cref="RollupWriter"/>), and
    /// one for the failures since each webhook's last success.
    /// </summary>
    public async Task<Dictionary<Guid, RollupTotals>> TotalsAsync(IReadOnlyList<Guid> webhookIds, int span, DateTime since, CancellationToken ct)
    {
        var totals = new Dictionary<Guid, RollupTotals>();
        if (webhookIds.Count == 0) return totals;
        var entity = db.Model.FindEntityType(typeof(Rollup))!;
        string Column(string property) => "\"" + entity.FindProperty(property)!.GetColumnName() + "\"";
        var start = Column(nameof(Rollup.Start));
        var webhook = Column(nameof(Rollup.WebhookId));
        var failed = $"{Column(nameof(Rollup.Failed))} + {Column(nameof(Rollup.Retrying))}";
        var sums = string.Join(", ", new[] { nameof(Rollup.Succeeded), nameof(Rollup.Retrying), nameof(Rollup.Failed), nameof(Rollup.DurationSumMs) }
            .Concat(Enumerable.Range(0, LatencyHistogram.Buckets).Select(LatencyHistogram.Property))
            .Select(p => $"SUM({Column(p)})"));

        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            var sinceMapping = (RelationalTypeMapping)entity.FindProperty(nameof(Rollup.Start))!.GetRelationalTypeMapping();
            var spanMapping = (RelationalTypeMapping)entity.FindProperty(nameof(Rollup.SpanMinutes))!.GetRelationalTypeMapping();
            var idMapping = (RelationalTypeMapping)entity.FindProperty(nameof(Rollup.WebhookId))!.GetRelationalTypeMapping();
            command.Parameters.Add(sinceMapping.CreateParameter(command, "@since", since));
            command.Parameters.Add(spanMapping.CreateParameter(command, "@span", span));
            var idParameters = webhookIds.Select((id, i) =>
            {
                command.Parameters.Add(idMapping.CreateParameter(command, "@w" + i, idMapping.Converter?.ConvertToProvider(id) ?? id));
                return "@w" + i;
            }).ToList();
            command.CommandText = $"SELECT {webhook}, MAX(CASE WHEN {failed} > 0 THEN {start} END), {sums} FROM \"{entity.GetTableName()}\" " +
                                  $"WHERE {webhook} IN ({string.Join(", ", idParameters)}) AND {Column(nameof(Rollup.SpanMinutes))} = @span AND {start} >= @since GROUP BY {webhook}";
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var t = new RollupTotals
                    {
                        Succeeded = (int)Long(reader, 2), Retrying = (int)Long(reader, 3), Failed = (int)Long(reader, 4), DurationSumMs = Long(reader, 5),
                        LastFailure = reader.IsDBNull(1) ? null : new LastFailure(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), null, null, null),
                    };
                    for (var k = 0; k < LatencyHistogram.Buckets; k++) t.Latency[k] = Long(reader, 6 + k);
                    totals[Guid.Parse(reader.GetValue(0).ToString()!)] = t;
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        var ids = totals.Where(t => t.Value.LastFailure is not null).Select(t => t.Key).ToList();
        var trailing = await db.Rollups
            .Where(r => ids.Contains(r.WebhookId) && r.SpanMinutes == span && r.Start >= since && r.Failed + r.Retrying > 0
                && !db.Rollups.Any(s => s.WebhookId == r.WebhookId && s.SpanMinutes == span && s.Start >= r.Start && s.Succeeded > 0))
            .GroupBy(r => r.WebhookId)
            .Select(g => new { g.Key, Count = g.Sum(r => r.Failed + r.Retrying) })
            .ToListAsync(ct);
        foreach (var t in trailing) totals[t.Key].TrailingFailures = t.Count;
        return totals;
    }

    private static long Long(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? 0 : Convert.ToInt64(reader.GetValue(ordinal));
}
