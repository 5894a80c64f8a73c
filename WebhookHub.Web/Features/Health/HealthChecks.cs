using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Features.Health;

public static class HealthSetup
{
    public static IServiceCollection AddHealthSetup(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<HangfireHealthCheck>("hangfire");
        return services;
    }

    public static void MapHealthSetup(this IEndpointRouteBuilder app) =>
        app.MapHealthChecks("/health").AllowAnonymous();
}

internal sealed class DatabaseHealthCheck(WebhookHubDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The application database cannot be opened.");
}

/// <summary>Healthy while a Hangfire server of this app has sent a heartbeat in the last minute.</summary>
internal sealed class HangfireHealthCheck(JobStorage storage, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var servers = storage.GetMonitoringApi().Servers();
        var now = time.GetUtcNow().UtcDateTime;
        var alive = servers.Where(s => s.Heartbeat is { } beat && now - beat < TimeSpan.FromMinutes(1)).ToList();
        return Task.FromResult(alive.Count > 0
            ? HealthCheckResult.Healthy($"{alive.Count} Hangfire server(s), last heartbeat {alive.Max(s => s.Heartbeat):O}")
            : HealthCheckResult.Unhealthy("No Hangfire server has sent a heartbeat in the last minute."));
    }
}
