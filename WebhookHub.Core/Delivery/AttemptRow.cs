using CsvHelper;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// One attempt (a <c>webhook_deliveries</c> row) as the history API and the CSV/JSON export show it:
/// never a secret or the request body. <c>[CsvRecord]</c> lets CsvHelper's source generator write it.
/// </summary>
[CsvRecord]
public sealed partial record AttemptRow(
    Guid Id, Guid DeliveryId, Guid WebhookId, string EventId, string EventType, Guid? PolicyChangeId,
    string Status, int? StatusCode, int AttemptNumber, string Trigger, DateTime CreatedAt, DateTime? DeliveredAt, long DurationMs,
    string? ErrorMessage, string? ResponseBody, string? HangfireJobId)
{
    public static AttemptRow From(DeliveryAttempt a) => new(a.Id, a.DeliveryId, a.WebhookId, a.EventId, a.EventType, a.PolicyChangeId,
        a.Status.ToString().ToLowerInvariant(), a.StatusCode, a.AttemptNumber, a.Trigger.ToString().ToLowerInvariant(), a.CreatedAt,
        a.DeliveredAt, a.DurationMs, a.ErrorMessage, a.ResponseBody, a.HangfireJobId);

    /// <summary>
    /// Streams rows as CSV. Response bodies and errors come from receivers, so text that a spreadsheet
    /// would run as a formula is escaped.
    /// </summary>
    public static async Task WriteCsvAsync(Stream destination, IAsyncEnumerable<AttemptRow> rows, CancellationToken ct)
    {
        await using var csv = CsvWriter.Create(destination, new CsvWriterOptions { Injection = CsvInjection.Escape }, true);
        await csv.WriteRecordsAsync(rows, ct);
        await csv.FlushAsync(ct);
    }
}
