using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Persistence;
using WebhookHub.Web.Hosting;

namespace WebhookHub.Web.Features.Health;

public static class HealthSetup
{
    /// <summary>The database on every node; this node's own Hangfire server where it runs one (not on a web node).</summary>
    public static IServiceCollection AddHealthSetup(this IServiceCollection services, IConfiguration configuration)
    {
        var checks = services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        var role = configuration.GetSection(WebhookHubOptions.Section).Get<WebhookHubOptions>()?.Role ?? NodeRole.All;
        if (role.RunsBackgroundWork()) checks.AddCheck<HangfireHealthCheck>("hangfire");
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

/// <summary>
/// Healthy while this node's Hangfire server has sent a heartbeat in the last minute. On a shared database the
/// storage lists every node's servers; this node's are named after it (<see cref="WebhookHubOptions.Node"/>).
/// </summary>
internal sealed class HangfireHealthCheck(JobStorage storage, TimeProvider time, IOptions<WebhookHubOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var own = HangfireSetup.ServerName(options.Value) + ":";
        var servers = storage.GetMonitoringApi().Servers().Where(s => s.Name.StartsWith(own, StringComparison.OrdinalIgnoreCase));
        var now = time.GetUtcNow().UtcDateTime;
        var alive = servers.Where(s => s.Heartbeat is { } beat && now - beat < TimeSpan.FromMinutes(1)).ToList();
        return Task.FromResult(alive.Count > 0
            ? HealthCheckResult.Healthy($"{alive.Count} Hangfire server(s), last heartbeat {alive.Max(s => s.Heartbeat):O}")
            : HealthCheckResult.Unhealthy("No Hangfire server has sent a heartbeat in the last minute."));
    }
}
