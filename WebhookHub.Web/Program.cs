using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Scalar.AspNetCore;
using WebhookHub.Core;
using WebhookHub.Web.Api;
using WebhookHub.Web.Auth;
using WebhookHub.Web.Components;
using WebhookHub.Web.Features.Account;
using WebhookHub.Web.Features.ApiKeys;
using WebhookHub.Web.Features.DeadLetters;
using WebhookHub.Web.Features.Deliveries;
using WebhookHub.Web.Features.Health;
using WebhookHub.Web.Features.Metrics;
using WebhookHub.Web.Features.Monitoring;
using WebhookHub.Web.Features.PolicyChanges;
using WebhookHub.Web.Features.Sources;
using WebhookHub.Web.Features.Users;
using WebhookHub.Web.Features.Webhooks;
using WebhookHub.Web.Hosting;
using WebhookHub.Web.Realtime;
using WebhookHub.Web.Security;

// Microsoft.Data.Sqlite does its I/O synchronously on the calling (pool) thread; with few cores the
// pool grows too slowly for that and requests queue. Measured in WebhookHub.Bench: steady p50 2.1 s → 0.6 s.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 64), minIo);

// No watching of appsettings files for changes (options are read at start anyway): under `dotnet run`
// the content root is the repo root, and the watcher followed every write to the SQLite files in ./data
// (4% of the CPU in a fan-out benchmark). Given first, so `--hostBuilder:reloadConfigOnChange=true` still wins.
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
// The repo-root appsettings.json (copied beside the app) is the file operators edit.
builder.Configuration.AddRepoRootSettings(builder.Environment);
// Serve MudBlazor's files from the build output in every environment (tests run as "Testing");
// a published app has no such manifest and serves them from wwwroot as usual.
builder.WebHost.UseStaticWebAssets();

builder.Services.AddWebhookHubCore(builder.Configuration);
// Every background part is told to stop at once, each with the whole shutdown timeout. In turn, one part slow to stop
// used up the timeout of those after it: Hangfire, already stopped in 13 ms, then threw OperationCanceledException
// from its StopAsync (seen on PostgreSQL in 3 of some 15 runs of SecurityBrowserTests' cleanup, under load).
builder.Services.Configure<HostOptions>(host => host.ServicesStopConcurrently = true);
builder.Services.AddHangfireSetup(builder.Configuration);
builder.Services.AddAuthSetup(builder.Environment);
builder.Services.AddSecuritySetup(builder.Configuration);
builder.Services.AddHealthSetup(builder.Configuration);
builder.Services.AddRealtimeSetup();
builder.Services.AddMetricsSetup();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddApiProtection(builder.Configuration);
builder.Services.AddOpenApi();
builder.Services.AddMudServices();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();

var app = builder.Build();
await app.Services.InitializeWebhookHubAsync();
await app.Services.PrepareBackgroundWorkAsync();

app.UseSecuritySetup();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseMiddleware<CookieRequestGuard>();
app.UseAuthorization();
app.UseRateLimiter();
app.UseAntiforgery();

app.MapHealthSetup();
app.MapMetricsSetup();
// A worker node (WebhookHub:Role = Worker) serves only /health and /metrics: its work is fan-out and Hangfire jobs.
if (app.Services.GetRequiredService<IOptions<WebhookHubOptions>>().Value.Role.ServesWeb())
{
    app.MapStaticAssets().AllowAnonymous();
    app.MapOpenApi().AllowAnonymous();
    app.MapScalarApiReference("/scalar").AllowAnonymous();
    app.MapRealtimeSetup();
    app.MapHangfireSetup();
    app.MapAccountEndpoints();
    app.MapUsersApi();
    app.MapApiKeysApi();
    app.MapWebhooksApi();
    app.MapPolicyChangesApi();
    app.MapSourcesApi();
    app.MapDeliveriesApi();
    app.MapDeadLettersApi();
    app.MapMonitoringApi();
    app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
}

app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
