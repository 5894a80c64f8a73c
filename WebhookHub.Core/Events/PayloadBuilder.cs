using System.Globalization;
using System.Text;
using System.Text.Json;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Events;

/// <summary>
/// Builds the JSON body of an event once (DESIGN.md §4, camelCase); the bytes are stored and every
/// attempt of every delivery sends exactly them.
/// </summary>
public static class PayloadBuilder
{
    /// <summary>A diff larger than this (UTF-8 bytes) is cut, and <c>diffUrl</c> points at the whole one.</summary>
    public const int MaxDiffBytes = 64 * 1024;

    /// <summary>Ids sort by creation time (UUIDv7), which keeps the events index append-only.</summary>
    public static string NewEventId() => "evt_" + Guid.CreateVersion7().ToString("N");

    public static WebhookEvent ForPolicyChange(PolicyChange change, DateTime now, string? publicBaseUrl)
    {
        var id = NewEventId();
        var (diff, cut) = Cut(change.Diff);
        var payload = Write(id, EventTypes.PolicyChangeDetected, now, data =>
        {
            data.WriteString("policyChangeId", change.Id);
            data.WriteString("route", change.Route);
            data.WriteString("source", change.Source);
            data.WriteString("detectedAt", Format(change.DetectedAt));
            data.WriteString("diff", diff);
            if (change.Summary is null) data.WriteNull("summary");
            else data.WriteString("summary", change.Summary);
            if (cut) data.WriteString("diffUrl", DiffUrl(change.Id, publicBaseUrl));
        });
        return new WebhookEvent
        {
            Id = id, Type = EventTypes.PolicyChangeDetected, Payload = payload, PolicyChangeId = change.Id, CreatedAt = now,
        };
    }

    public static WebhookEvent ForTest(Webhook webhook, DateTime now)
    {
        var id = NewEventId();
        var payload = Write(id, EventTypes.WebhookTest, now, data =>
        {
            data.WriteString("webhookId", webhook.Id);
            data.WriteString("message", "This is a test delivery from WebhookHub.");
        });
        return new WebhookEvent { Id = id, Type = EventTypes.WebhookTest, Payload = payload, CreatedAt = now };
    }

    public static string DiffUrl(Guid policyChangeId, string? publicBaseUrl) =>
        (publicBaseUrl?.TrimEnd('/') ?? "") + "/api/policy-changes/" + policyChangeId;

    /// <summary>The diff, cut to at most <see cref="MaxDiffBytes"/> UTF-8 bytes on a character boundary.</summary>
    public static (string Diff, bool Cut) Cut(string diff)
    {
        if (Encoding.UTF8.GetByteCount(diff) <= MaxDiffBytes) return (diff, false);
        var bytes = 0;
        var i = 0;
        while (i < diff.Length)
        {
            var width = char.IsHighSurrogate(diff[i]) && i + 1 < diff.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(diff.AsSpan(i, width));
            if (bytes + size > MaxDiffBytes) break;
            bytes += size;
            i += width;
        }
        return (diff[..i], true);
    }

    /// <summary>Seconds precision, UTC, as receivers expect from the example in DESIGN.md §4.</summary>
    public static string Format(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Write(string id, string type, DateTime now, Action<Utf8JsonWriter> data)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("type", type);
            json.WriteString("timestamp", Format(now));
            json.WritePropertyName("data");
            json.WriteStartObject();
            data(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
