using System.Text;
using System.Text.Json;
using WebhookHub.Core.Events;

namespace WebhookHub.Tests.Delivery;

public sealed class PayloadBuilderTests
{
    private static PolicyChange Change(string diff, string? summary = "s") => new()
    {
        Id = Guid.Parse("0193a000-0000-7000-8000-000000000001"), Route = "uk-student-visa", Source = "https://gov.example/visa",
        Diff = diff, Summary = summary, DetectedAt = new DateTime(2026, 11, 29, 6, 59, 0, DateTimeKind.Utc),
    };

    [Fact]
    public void Body_is_camel_case_json_as_in_the_delivery_contract()
    {
        var evt = PayloadBuilder.ForPolicyChange(Change("--- a\n+++ b", summary: null), new DateTime(2026, 11, 29, 7, 0, 0, DateTimeKind.Utc), null);
        using var json = JsonDocument.Parse(evt.Payload);
        var root = json.RootElement;
        Assert.Equal(evt.Id, root.GetProperty("id").GetString());
        Assert.StartsWith("evt_", evt.Id);
        Assert.Equal("policy_change.detected", root.GetProperty("type").GetString());
        Assert.Equal("2026-11-29T07:00:00Z", root.GetProperty("timestamp").GetString());
        var data = root.GetProperty("data");
        Assert.Equal("0193a000-0000-7000-8000-000000000001", data.GetProperty("policyChangeId").GetString());
        Assert.Equal("uk-student-visa", data.GetProperty("route").GetString());
        Assert.Equal("https://gov.example/visa", data.GetProperty("source").GetString());
        Assert.Equal("2026-11-29T06:59:00Z", data.GetProperty("detectedAt").GetString());
        Assert.Equal("--- a\n+++ b", data.GetProperty("diff").GetString());
        Assert.Equal(JsonValueKind.Null, data.GetProperty("summary").ValueKind);
        Assert.False(data.TryGetProperty("diffUrl", out _), "diffUrl only when the diff was cut");
    }

    [Fact]
    public void A_diff_over_64_KB_is_cut_on_a_character_boundary_with_a_diff_url()
    {
        // Four-byte characters, so that a byte cut would split one.
        var diff = string.Concat(Enumerable.Repeat("😀", 20_000));
        var evt = PayloadBuilder.ForPolicyChange(Change(diff), DateTime.UtcNow, "https://hub.example.com/");
        var data = JsonDocument.Parse(evt.Payload).RootElement.GetProperty("data");
        var sent = data.GetProperty("diff").GetString()!;
        Assert.True(Encoding.UTF8.GetByteCount(sent) <= PayloadBuilder.MaxDiffBytes);
        Assert.True(Encoding.UTF8.GetByteCount(sent) > PayloadBuilder.MaxDiffBytes - 4);
        Assert.StartsWith(sent, diff);
        Assert.Equal("https://hub.example.com/api/policy-changes/0193a000-0000-7000-8000-000000000001", data.GetProperty("diffUrl").GetString());
    }

    [Fact]
    public void A_diff_of_exactly_64_KB_is_sent_whole()
    {
        var diff = new string('x', PayloadBuilder.MaxDiffBytes);
        var data = JsonDocument.Parse(PayloadBuilder.ForPolicyChange(Change(diff), DateTime.UtcNow, null).Payload).RootElement.GetProperty("data");
        Assert.Equal(diff, data.GetProperty("diff").GetString());
        Assert.False(data.TryGetProperty("diffUrl", out _));
    }
}
