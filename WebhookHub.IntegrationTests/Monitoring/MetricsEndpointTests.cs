using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Monitoring;

/// <summary>One app for the class: the health test makes no deliveries, so the counts the metrics test reads are its own.</summary>
public sealed class MetricsEndpointTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private WebhookHubApp App => fixture.App;

    [Fact]
    public async Task Metrics_count_attempts_by_outcome_and_report_dead_letters_and_queue_depth_to_staff_only()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, req) => req.Path == "/gone" ? Results.NotFound() : Results.Ok());
        using var admin = App.ApiClient();
        foreach (var path in new[] { "/ok", "/gone" })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/webhooks", new { name = path, url = receiver.Url(path) })).StatusCode);
        for (var i = 0; i < 2; i++)
            await admin.PostAsJsonAsync("/api/policy-changes", new { route = "visa/uk", source = "https://example.gov", diff = $"+ {i}" });

        var text = await Eventually.Matches(async () =>
            {
                var response = await admin.GetAsync("/metrics");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return await response.Content.ReadAsStringAsync();
            },
            text => Prometheus.Sample(text, "webhookhub_delivery_attempts_total", "outcome=\"failed\"") == 2
                && Prometheus.Sample(text, "webhookhub_delivery_attempts_total", "outcome=\"success\"") == 2
                && Prometheus.Sample(text, "webhookhub_delivery_dead_letters") == 2,
            "/metrics showing the 4 attempts and 2 dead letters");

        Assert.Equal(2, Prometheus.Sample(text, "webhookhub_delivery_attempt_duration_seconds_count", "outcome=\"success\""));
        Assert.NotNull(Prometheus.Sample(text, "webhookhub_delivery_attempt_duration_seconds_bucket", "le=\"0.25\""));
        Assert.NotNull(Prometheus.Sample(text, "webhookhub_delivery_queue_depth", "state=\"enqueued\""));
        Assert.NotNull(Prometheus.Sample(text, "webhookhub_delivery_queue_depth", "state=\"scheduled\""));
        Assert.Equal(0, Prometheus.Sample(text, "webhookhub_delivery_queue_depth", "state=\"fanout\""));
        // .NET's runtime meter, for watching the process's memory (the soak reads these).
        Assert.True(Prometheus.Sample(text, "dotnet_process_memory_working_set_bytes") > 10_000_000, "the runtime meter is exported");

        // Traffic and failure rates are the operators' business: anonymous gets 401, a customer 403.
        using var anonymous = App.ApiClient(apiKey: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        using var customer = await ApiUsers.CreateAsync(App);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.Client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Health_includes_the_hangfire_servers_heartbeat()
    {
        using var anonymous = App.ApiClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);

        var report = await App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var hangfire = report.Entries["hangfire"];
        Assert.Equal(HealthStatus.Healthy, hangfire.Status);
        Assert.Contains("last heartbeat", hangfire.Description);
    }
}
