using System.Buffers;
using System.Text.Json;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// The events bridge's NOTIFY payloads: <c>{"n":"&lt;node&gt;","e":[[tag, field, …], …]}</c>, each event a positional
/// array (a recorded batch of 100 attempts is some 16 KB, so two or three payloads, not seven as named JSON
/// objects would be). PostgreSQL refuses a payload of 8,000 bytes or more, so a batch is split into as few as fit;
/// the default JSON escaping keeps them ASCII, so their length in any server encoding is what is measured here.
/// </summary>
public static class EventPayloads
{
    /// <summary>PostgreSQL's limit is "shorter than 8000 bytes".</summary>
    public const int MaxBytes = 7_999;

    /// <summary>
    /// Longest free text (an error, a reason) carried; longer is cut. Escaped as <c>\uXXXX</c> a character is at most
    /// 6 bytes, so the longest event still fits one payload beside a node name of up to <see cref="MaxNodeLength"/>.
    /// </summary>
    public const int MaxTextLength = 1_000;

    public const int MaxNodeLength = 200;

    private const string Attempt = "a", DeadLetter = "d", Webhook = "w", Circuit = "c", Redrive = "r";

    /// <summary>The events in order, in as few payloads as fit under <paramref name="maxBytes"/>.</summary>
    public static List<string> Encode(string node, IEnumerable<IDeliveryEvent> events, int maxBytes = MaxBytes)
    {
        if (node.Length > MaxNodeLength) throw new ArgumentException($"A node name is at most {MaxNodeLength} characters.", nameof(node));
        var header = JsonSerializer.Serialize(node);
        var room = maxBytes - "{\"n\":".Length - header.Length - ",\"e\":[]}".Length;
        var payloads = new List<string>();
        var fragments = new List<string>();
        var used = 0;
        foreach (var e in events)
        {
            var fragment = Fragment(e);
            if (fragment.Length > room) throw new InvalidOperationException($"One {e.GetType().Name} does not fit a payload of {maxBytes} bytes.");
            // +1 for the comma between fragments.
            if (fragments.Count > 0 && used + 1 + fragment.Length > room) Flush();
            used += (fragments.Count > 0 ? 1 : 0) + fragment.Length;
            fragments.Add(fragment);
        }
        if (fragments.Count > 0) Flush();
        return payloads;

        void Flush()
        {
            payloads.Add($"{{\"n\":{header},\"e\":[{string.Join(',', fragments)}]}}");
            fragments.Clear();
            used = 0;
        }
    }

    /// <summary>The sending node and its events; an event of a kind this build does not know (a newer node's) is skipped.</summary>
    public static (string Node, List<IDeliveryEvent> Events) Decode(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var events = new List<IDeliveryEvent>();
        foreach (var e in root.GetProperty("e").EnumerateArray())
            if (Read(e) is { } known) events.Add(known);
        return (root.GetProperty("n").GetString()!, events);
    }

    private static string Fragment(IDeliveryEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            switch (e)
            {
                case AttemptRecorded a:
                    json.WriteStringValue(Attempt); Id(json, a.WebhookId); Id(json, a.DeliveryId); json.WriteStringValue(a.EventType);
                    json.WriteNumberValue(a.AttemptNumber); json.WriteNumberValue((int)a.Status); Number(json, a.StatusCode);
                    json.WriteNumberValue(a.DurationMs); Text(json, a.Error); Time(json, a.At);
                    break;
                case DeliveryDeadLettered d:
                    json.WriteStringValue(DeadLetter); Id(json, d.WebhookId); Id(json, d.DeliveryId); json.WriteStringValue(d.EventType);
                    Text(json, d.Reason); Time(json, d.At);
                    break;
                case WebhookStateChanged w:
                    json.WriteStringValue(Webhook); Id(json, w.WebhookId); json.WriteStringValue(w.OwnerId); json.WriteBooleanValue(w.IsActive);
                    json.WriteBooleanValue(w.Deleted); Text(json, w.Reason); Time(json, w.At);
                    break;
                case CircuitChanged c:
                    json.WriteStringValue(Circuit); Id(json, c.WebhookId); json.WriteNumberValue((int)c.State); json.WriteNumberValue(c.ConsecutiveFailures);
                    Time(json, c.NextProbeAt); Text(json, c.Reason); Time(json, c.At);
                    break;
                case RedriveProgress r:
                    json.WriteStringValue(Redrive); Id(json, r.WebhookId); json.WriteNumberValue(r.Total); json.WriteNumberValue(r.Done);
                    json.WriteNumberValue(r.Succeeded); json.WriteNumberValue(r.Failed); json.WriteNumberValue(r.PerSecond);
                    json.WriteBooleanValue(r.Finished); Text(json, r.StoppedBecause); Time(json, r.StartedAt); Time(json, r.At);
                    break;
                default:
                    throw new ArgumentException($"Unknown delivery event {e.GetType().Name}.", nameof(e));
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.ASCII.GetString(buffer.WrittenSpan);
    }

    private static IDeliveryEvent? Read(JsonElement e) => e[0].GetString() switch
    {
        Attempt => new AttemptRecorded(Id(e[1]), Id(e[2]), e[3].GetString()!, e[4].GetInt32(), (AttemptStatus)e[5].GetInt32(),
            NullableInt(e[6]), e[7].GetInt64(), e[8].GetString(), Time(e[9])),
        DeadLetter => new DeliveryDeadLettered(Id(e[1]), Id(e[2]), e[3].GetString()!, e[4].GetString(), Time(e[5])),
        Webhook => new WebhookStateChanged(Id(e[1]), e[2].GetString()!, e[3].GetBoolean(), e[4].GetBoolean(), e[5].GetString(), Time(e[6])),
        Circuit => new CircuitChanged(Id(e[1]), (CircuitState)e[2].GetInt32(), e[3].GetInt32(), NullableTime(e[4]), e[5].GetString(), Time(e[6])),
        Redrive => new RedriveProgress(Id(e[1]), e[2].GetInt32(), e[3].GetInt32(), e[4].GetInt32(), e[5].GetInt32(), e[6].GetDouble(),
            e[7].GetBoolean(), e[8].GetString(), Time(e[9]), Time(e[10])),
        _ => null,
    };

    private static void Id(Utf8JsonWriter json, Guid id) => json.WriteStringValue(id.ToString("N"));

    private static Guid Id(JsonElement e) => Guid.ParseExact(e.GetString()!, "N");

    private static void Number(Utf8JsonWriter json, int? n)
    {
        if (n is { } value) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }

    private static void Text(Utf8JsonWriter json, string? text)
    {
        if (text is null) json.WriteNullValue();
        else if (text.Length <= MaxTextLength) json.WriteStringValue(text);
        // Never between the halves of a surrogate pair: the writer refuses half a character.
        else json.WriteStringValue(text[..(char.IsHighSurrogate(text[MaxTextLength - 1]) ? MaxTextLength - 1 : MaxTextLength)]);
    }

    /// <summary>Ticks: exact (a DateTime's own precision) and shorter than ISO 8601. Every time here is UTC.</summary>
    private static void Time(Utf8JsonWriter json, DateTime? at)
    {
        if (at is { } value) json.WriteNumberValue(value.Ticks);
        else json.WriteNullValue();
    }

    private static DateTime Time(JsonElement e) => new(e.GetInt64(), DateTimeKind.Utc);

    private static DateTime? NullableTime(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : Time(e);

    private static int? NullableInt(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetInt32();
}
