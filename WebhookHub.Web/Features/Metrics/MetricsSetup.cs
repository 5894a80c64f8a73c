using OpenTelemetry.Metrics;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Features.Metrics;

public static class MetricsSetup
{
    public const string ScrapePolicy = "MetricsScrape";

    public static IServiceCollection AddMetricsSetup(this IServiceCollection services)
    {
        services.AddSingleton<DeliveryMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DeliveryMetrics.MeterName)
            // .NET's own: GC heap and committed memory, working set, thread pool, exceptions.
            .AddMeter("System.Runtime")
            .AddPrometheusExporter());
        services.AddAuthorizationBuilder()
            .AddPolicy(ScrapePolicy, policy => policy.RequireRole(Roles.Admin, Roles.Operator));
        return services;
    }

    /// <summary>
    /// <c>/metrics</c> for Prometheus, behind an Admin or Operator API key: the app serves customers on
    /// the same port, and traffic volumes and failure rates are not theirs to read. Prometheus sends the
    /// key with <c>authorization: { credentials: … }</c> in its scrape config.
    /// </summary>
    public static void MapMetricsSetup(this WebApplication app)
    {
        // The meter subscribes to the notifier when created; nothing else asks for it.
        app.Services.GetRequiredService<DeliveryMetrics>();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ScrapePolicy);
    }
}
