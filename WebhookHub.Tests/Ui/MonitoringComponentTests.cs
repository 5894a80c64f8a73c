using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Web.Features.Monitoring;

namespace WebhookHub.Tests.Ui;

/// <remarks>
/// A context per test, disposed asynchronously: MudTable's key interceptor can only be disposed that
/// way, and xunit 2 disposes a test class synchronously.
/// </remarks>
public sealed class MonitoringComponentTests
{
    private static BunitContext NewContext()
    {
        var context = new BunitContext();
        context.JSInterop.Mode = JSRuntimeMode.Loose;
        context.Services.AddMudServices();
        context.Services.AddSingleton(TimeProvider.System);
        context.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new WebhookHub.Core.WebhookHubOptions()));
        context.Services.AddSingleton<DeliveryNotifier>();
        context.Services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(Microsoft.Extensions.Logging.Abstractions.NullLogger<>));
        context.Services.AddSingleton<CircuitBreaker>();
        return context;
    }

    private static WebhookHealth Health(string name, bool active, double? rate, LastFailure? failure = null) =>
        new(Guid.NewGuid(), name, active, rate is null ? 0 : 10, rate, 40, 90, new Dictionary<string, int>(), failure, 45.5);

    [Fact]
    public async Task Health_table_shows_each_state_its_reason_and_the_rule()
    {
        await using var context = NewContext();
        var failure = new LastFailure(new DateTime(2026, 11, 29, 10, 0, 5), 503, "Service Unavailable", Guid.NewGuid());
        var rows = new[]
        {
            Health("good", true, 1.0), Health("flaky", true, 0.9, failure), Health("down", true, 0.2, failure), Health("off", false, null),
        }.Select(h => { var (state, why) = HealthRule.Classify(h, 0); return new HealthRow(h, state, why); }).ToList();

        var table = context.Render<HealthTable>(p => p.Add(t => t.Rows, rows));
        var circuits = table.FindAll("[data-testid=circuit-state]").Select(c => c.GetAttribute("data-state")).ToList();
        Assert.Equal(["closed", "closed", "closed", "closed"], circuits);
        // The breaker opens the third one's circuit: the table shows it without being handed new rows.
        var breaker = context.Services.GetRequiredService<CircuitBreaker>();
        for (var i = 0; i < 5; i++) breaker.Record(rows[2].Health.WebhookId, new EndpointSignal.Failed("Timed out"), probe: false);
        table.WaitForAssertion(() => Assert.Equal("open", table.FindAll("[data-testid=circuit-state]")[2].GetAttribute("data-state")));
        Assert.Contains("circuit open", table.Markup);
        Assert.Contains("next probe", table.Markup);

        var states = table.FindAll("[data-testid=health-state] .mud-chip").Select(c => c.TextContent.Trim()).ToList();
        Assert.Equal(["healthy", "degraded", "failing", "disabled"], states);
        Assert.Contains((0.9).ToString("P1") + " succeeded", table.Markup);
        Assert.Contains("10:00:05 · 503 · Service Unavailable", table.Markup);
        Assert.Contains("46 ms", table.Markup);
        Assert.Contains("under 80 %", table.Find("[data-testid=health-rule]").TextContent);
        Assert.Equal($"/webhooks/{rows[2].Health.WebhookId}/history", table.FindAll("a")[2].GetAttribute("href"));
    }

    [Fact]
    public async Task Throughput_chart_draws_both_series_and_carries_their_sums()
    {
        await using var context = NewContext();
        var now = new DateTime(2026, 11, 29, 10, 7, 30, DateTimeKind.Utc);
        PeriodCounts At(int secondsAgo, int succeeded, int failed) => new(Rollup.MinuteOf(now.AddSeconds(-secondsAgo)), succeeded, failed);
        var series = Throughput.Build([At(5, 1, 1), At(70, 1, 0)], now, TimeSpan.FromMinutes(15));

        var chart = context.Render<ThroughputChart>(p => p.Add(c => c.Series, series));

        var root = chart.Find("[data-testid=throughput]");
        Assert.Equal("2", root.GetAttribute("data-successes"));
        Assert.Equal("1", root.GetAttribute("data-failures"));
        // The bars themselves are drawn once the browser reports the chart's size; what MudChart is given is testable here.
        var mud = chart.FindComponent<MudChart<double>>().Instance;
        Assert.Equal(["Succeeded", "Failed"], mud.ChartSeries.Select(s => s.Name));
        Assert.Equal(16, mud.ChartLabels.Length);
        Assert.Equal(series.Successes, mud.ChartSeries[0].Data.Values);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], mud.ChartSeries[1].Data.Values);
        Assert.Contains("per minute", chart.Markup);
    }
}
