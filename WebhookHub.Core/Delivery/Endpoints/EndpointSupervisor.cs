using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Delivery.Endpoints;

/// <summary>
/// Looks after the endpoints whose circuits are not closed, four times a second: probes an open endpoint
/// when its cool-down ends (with one of its own parked or dead-lettered deliveries, so nothing waits for a
/// job to happen by), switches off one whose circuit has stayed open past
/// <see cref="AutoDisableOptions.OpenCircuitMinutes"/>, and starts the redrive when a circuit closes.
/// A webhook switched on or off, or deleted, starts again with a closed circuit.
/// </summary>
public sealed partial class EndpointSupervisor(
    CircuitBreaker breaker, RedriveRunner redrive, DeliveryNotifier notifier, IServiceScopeFactory scopes,
    IOptions<WebhookHubOptions> options, TimeProvider time, ILogger<EndpointSupervisor> log) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>The probe time each circuit was last probed for: one probe per cool-down.</summary>
    private readonly Dictionary<Guid, DateTime> _probed = [];
    private CancellationToken _stopping;

    public override Task StartAsync(CancellationToken ct)
    {
        breaker.Recovered += OnRecovered;
        notifier.WebhookChanged += OnWebhookChanged;
        return base.StartAsync(ct);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        breaker.Recovered -= OnRecovered;
        notifier.WebhookChanged -= OnWebhookChanged;
        await base.StopAsync(ct);
    }

    private void OnRecovered(Guid webhookId, DateTime brokeAt) => redrive.Start(webhookId, brokeAt, _stopping);

    private void OnWebhookChanged(WebhookStateChanged change) => breaker.Reset(change.WebhookId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        using var timer = new PeriodicTimer(Tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await LookAfterAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException) { LogFailed(e); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task LookAfterAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var openFor = options.Value.Delivery.AutoDisable.OpenCircuitMinutes;
        foreach (var circuit in breaker.NotClosed())
        {
            if (openFor > 0 && circuit.OpenSince is { } since && now - since >= TimeSpan.FromMinutes(openFor))
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<WebhookAutoDisabler>().OnCircuitStuckAsync(circuit.WebhookId, since, ct);
                breaker.Reset(circuit.WebhookId);
                continue;
            }
            if (circuit.State != CircuitState.Open || circuit.NextProbeAt is not { } due || due > now) continue;
            if (_probed.TryGetValue(circuit.WebhookId, out var probedFor) && probedFor == due) continue;
            _probed[circuit.WebhookId] = due;
            _ = ProbeAsync(circuit, ct);
        }
        foreach (var id in _probed.Keys.Where(id => breaker.View(id).State == CircuitState.Closed).ToList())
            _probed.Remove(id);
    }

    /// <summary>Not awaited by the loop: a probe of a black hole takes the whole timeout.</summary>
    private async Task ProbeAsync(CircuitView circuit, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var attempts = scope.ServiceProvider.GetRequiredService<RecoveryAttempts>();
            if (await attempts.ProbeCandidateAsync(circuit.WebhookId, circuit.BrokeAt ?? circuit.OpenSince ?? DateTime.MinValue, ct) is { } deliveryId)
                await attempts.AttemptNowAsync(deliveryId, redrive: false, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogProbeFailed(e, circuit.WebhookId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Looking after open circuits failed")]
    private partial void LogFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Probing webhook {WebhookId} failed")]
    private partial void LogProbeFailed(Exception e, Guid webhookId);
}
