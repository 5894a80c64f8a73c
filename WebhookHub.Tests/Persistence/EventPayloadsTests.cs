using System.Text;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Tests.Persistence;

/// <summary>The events bridge's NOTIFY payloads: under PostgreSQL's 8,000 bytes, in order, and back exactly as they were.</summary>
public sealed class EventPayloadsTests
{
    private static readonly DateTime At = new DateTime(2026, 12, 2, 10, 15, 30, DateTimeKind.Utc).AddTicks(1234567);

    private static AttemptRecorded Attempt(int i, AttemptStatus status = AttemptStatus.Success, string? error = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "policy.changed", i % 6 + 1, status, status == AttemptStatus.Success ? 200 : null, 12 + i, error, At.AddMilliseconds(i));

    [Fact]
    public void A_batch_over_8000_bytes_is_split_into_payloads_under_8000_that_round_trip_in_order()
    {
        // A recorded batch of 300 (a fan-out's) with failures, dead letters and non-ASCII error text.
        var events = new List<IDeliveryEvent>();
        for (var i = 0; i < 300; i++)
        {
            var failed = i % 7 == 0;
            var attempt = Attempt(i, failed ? AttemptStatus.Failed : AttemptStatus.Success, failed ? $"HTTP 410: «gone» {i} ✓" : null);
            events.Add(attempt);
            if (failed) events.Add(new DeliveryDeadLettered(attempt.WebhookId, attempt.DeliveryId, attempt.EventType, attempt.Error, attempt.At));
        }
        var owner = Guid.NewGuid().ToString();
        events.Add(new WebhookStateChanged(Guid.NewGuid(), owner, IsActive: false, Deleted: false, "Disabled after 10 dead letters", At));
        events.Add(new CircuitChanged(Guid.NewGuid(), CircuitState.Open, 5, At.AddSeconds(5), "5 failures in a row", At));
        events.Add(new CircuitChanged(Guid.NewGuid(), CircuitState.Closed, 0, null, null, At));
        events.Add(new RedriveProgress(Guid.NewGuid(), 120, 40, 39, 1, 12.5, false, null, At.AddSeconds(-4), At));

        var payloads = EventPayloads.Encode("web-1", events);

        Assert.InRange(payloads.Count, 2, 20);
        Assert.All(payloads, p => Assert.InRange(Encoding.UTF8.GetByteCount(p), 1, EventPayloads.MaxBytes));
        Assert.All(payloads, p => Assert.True(p.All(char.IsAscii), "a payload is ASCII, so its size is the same in any server encoding"));
        var decoded = payloads.Select(EventPayloads.Decode).ToList();
        Assert.All(decoded, d => Assert.Equal("web-1", d.Node));
        Assert.Equal(events, decoded.SelectMany(d => d.Events));
        Assert.All(decoded.SelectMany(d => d.Events).Select(e => e.At), at => Assert.Equal(DateTimeKind.Utc, at.Kind));
    }

    [Fact]
    public void Payloads_are_as_few_as_fit_and_a_small_batch_is_one()
    {
        Assert.Single(EventPayloads.Encode("n", Enumerable.Range(0, 20).Select(i => Attempt(i))));
        var big = Enumerable.Range(0, 1000).Select(i => (IDeliveryEvent)Attempt(i)).ToList();
        var payloads = EventPayloads.Encode("n", big);
        // Greedy packing: only the last payload may be far from full.
        Assert.All(payloads.SkipLast(1), p => Assert.InRange(p.Length, EventPayloads.MaxBytes - 200, EventPayloads.MaxBytes));
    }

    [Fact]
    public void A_very_long_error_is_cut_so_that_any_one_event_fits_a_payload()
    {
        var error = string.Concat(Enumerable.Repeat("€", 5000)); // 6 bytes each once escaped
        var payloads = EventPayloads.Encode(new string('n', EventPayloads.MaxNodeLength), [Attempt(1, AttemptStatus.Failed, error)]);

        var decoded = (AttemptRecorded)Assert.Single(EventPayloads.Decode(Assert.Single(payloads)).Events);
        Assert.Equal(error[..EventPayloads.MaxTextLength], decoded.Error);
        Assert.InRange(payloads[0].Length, 1, EventPayloads.MaxBytes);
    }

    [Fact]
    public void An_event_kind_this_build_does_not_know_is_skipped()
    {
        var known = Attempt(1);
        var payload = EventPayloads.Encode("n", [known])[0].Replace("\"e\":[", "\"e\":[[\"z\",1,2],");

        Assert.Equal([known], EventPayloads.Decode(payload).Events);
    }
}
