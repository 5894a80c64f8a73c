using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Webhooks;

/// <summary>Who is asking. Admins change every webhook; Operators look at every webhook but change only their own.</summary>
public sealed record WebhookCaller(string UserId, bool IsAdmin, bool SeesEverything);

/// <summary>
/// What a client sends to create or replace a webhook; null <see cref="Events"/> means every subscribable
/// type. The defaults also tell the OpenAPI document which fields a client may leave out.
/// </summary>
public sealed record WebhookInput(
    string? Name, string? Url, IReadOnlyList<string?>? Events = null, IReadOnlyList<string?>? Routes = null, bool? IsActive = null,
    int? MaxPerSecond = null, bool? RedriveOnRecovery = null);

/// <summary>What a request about one webhook came to; the API turns each case into one status code.</summary>
public abstract record WebhookOutcome
{
    private WebhookOutcome() { }

    /// <param name="Secret">The clear secret, only where its owner is meant to see it (create, rotate, reveal).</param>
    public sealed record Done(Webhook Webhook, string? Secret = null) : WebhookOutcome
    {
        // A record prints every member; this one must never print the secret into a log line.
        protected override bool PrintMembers(System.Text.StringBuilder builder)
        {
            builder.Append("Webhook = ").Append(Webhook.Id).Append(", Secret = ").Append(Secret is null ? "null" : "***");
            return true;
        }
    }

    /// <summary>No such webhook, or one the caller may not see: the two must look the same to a customer.</summary>
    public sealed record NotFound : WebhookOutcome;

    /// <summary>The caller can see the webhook (an Operator) but may not change it or read its secret.</summary>
    public sealed record Forbidden : WebhookOutcome;

    /// <summary>The webhook is switched on again; <paramref name="Requeued"/> of its dead letters were sent back to be delivered.</summary>
    public sealed record Enabled(Webhook Webhook, int Requeued) : WebhookOutcome;

    /// <param name="Errors">Field name (as in the JSON body) → what is wrong with it.</param>
    public sealed record Invalid(IReadOnlyDictionary<string, string> Errors) : WebhookOutcome;

    /// <summary>The customer already has as many webhooks as <see cref="QuotaOptions.MaxWebhooksPerCustomer"/> allows.</summary>
    public sealed record LimitReached(string Detail) : WebhookOutcome;
}

/// <summary>Webhook management: who sees what, validation, secrets (encrypted at rest, shown on purpose only) and soft delete.</summary>
public sealed class WebhookService(
    WebhookHubDbContext db,
    WebhookSecretProtector protector,
    WebhookUrlValidator urlValidator,
    TimeProvider time,
    IOptions<WebhookHubOptions> options,
    DeliveryNotifier notifier,
    DeadLetterService deadLetters,
    ILogger<WebhookService> logger)
{
    public const int MaxNameLength = 200;
    public const int MaxRouteLength = 200;
    public const int MaxRoutes = 100;
    public const int MaxPerSecondLimit = 10_000;

    public Task<List<Webhook>> ListAsync(WebhookCaller caller, CancellationToken ct = default) =>
        Visible(caller).OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).ToListAsync(ct);

    /// <summary>One page of <see cref="ListAsync"/>'s order, and how many there are: the UI never loads every customer's webhooks at once.</summary>
    public async Task<(List<Webhook> Items, int Total)> PageAsync(WebhookCaller caller, int skip, int take, CancellationToken ct = default)
    {
        var query = Visible(caller);
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500)).ToListAsync(ct);
        return (items, total);
    }

    /// <summary>What is wrong with a name, or null; the form asks as the user types, so both say the same thing.</summary>
    public static string? NameError(string? name)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name)) return "name is required";
        return name.Length > MaxNameLength ? $"name must be at most {MaxNameLength} characters" : null;
    }

    /// <summary>What is wrong with a list of event types, or null (null itself means every subscribable type).</summary>
    public static string? EventsError(IReadOnlyList<string?>? events)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        ValidateEvents(events, errors);
        return errors.GetValueOrDefault("events");
    }

    /// <param name="includeDeleted">Honoured for Admins and Operators only: a deleted webhook's history stays theirs to read.</param>
    public Task<Webhook?> GetAsync(WebhookCaller caller, Guid id, bool includeDeleted = false, CancellationToken ct = default) =>
        Visible(caller, includeDeleted && caller.SeesEverything).FirstOrDefaultAsync(w => w.Id == id, ct);

    public async Task<WebhookOutcome> CreateAsync(WebhookCaller caller, WebhookInput input, CancellationToken ct = default)
    {
        var (clean, errors) = await ValidateAsync(input, ct);
        if (clean is null) return new WebhookOutcome.Invalid(errors);
        // One customer's endpoints share the hub with everyone's: capped, except for Admins.
        var cap = options.Value.Quotas.MaxWebhooksPerCustomer;
        if (cap > 0 && !caller.IsAdmin && await db.Webhooks.CountAsync(w => w.UserId == caller.UserId && w.DeletedAt == null, ct) >= cap)
            return new WebhookOutcome.LimitReached($"You already have {cap} webhooks, the most one customer may have; delete one first.");

        var now = Now();
        var secret = WebhookSecret.Generate();
        var webhook = new Webhook
        {
            Id = Guid.CreateVersion7(),
            UserId = caller.UserId,
            Name = clean.Name,
            Url = clean.Url,
            Secret = protector.Protect(secret),
            Events = clean.Events,
            Routes = clean.Routes,
            IsActive = clean.IsActive,
            MaxPerSecond = clean.MaxPerSecond,
            RedriveOnRecovery = clean.RedriveOnRecovery,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Webhooks.Add(webhook);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Webhook {WebhookId} created by user {UserId}", webhook.Id, caller.UserId);
        return new WebhookOutcome.Done(webhook, secret);
    }

    /// <summary>PUT semantics: every field is replaced; one left out takes its default, as on create.</summary>
    public async Task<WebhookOutcome> UpdateAsync(WebhookCaller caller, Guid id, WebhookInput input, CancellationToken ct = default)
    {
        var (webhook, denied) = await FindForChangeAsync(caller, id, ct);
        if (webhook is null) return denied!;
        var (clean, errors) = await ValidateAsync(input, ct);
        if (clean is null) return new WebhookOutcome.Invalid(errors);

        webhook.Name = clean.Name;
        webhook.Url = clean.Url;
        webhook.Events = clean.Events;
        webhook.Routes = clean.Routes;
        webhook.MaxPerSecond = clean.MaxPerSecond;
        webhook.RedriveOnRecovery = clean.RedriveOnRecovery;
        // Switching a webhook back on is the person's answer to whatever disabled it.
        if (clean.IsActive && !webhook.IsActive) webhook.DisabledReason = null;
        var switched = webhook.IsActive != clean.IsActive;
        webhook.IsActive = clean.IsActive;
        webhook.UpdatedAt = Now();
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Webhook {WebhookId} updated by user {UserId}", webhook.Id, caller.UserId);
        if (switched)
            notifier.Publish(new WebhookStateChanged(webhook.Id, webhook.UserId, webhook.IsActive, false, webhook.DisabledReason, webhook.UpdatedAt));
        return new WebhookOutcome.Done(webhook);
    }

    /// <summary>
    /// Switches a webhook back on (clearing why it was disabled) and, when asked, retries every
    /// delivery of it that was dead-lettered meanwhile, each with a fresh retry budget. Enabled before
    /// the retries are queued, since a retry of a disabled webhook's delivery dead-letters it again.
    /// Enabling a webhook that is already on only redelivers.
    /// </summary>
    public async Task<WebhookOutcome> EnableAsync(WebhookCaller caller, Guid id, bool redeliverFailed, CancellationToken ct = default)
    {
        var (webhook, denied) = await FindForChangeAsync(caller, id, ct);
        if (webhook is null) return denied!;

        if (!webhook.IsActive)
        {
            webhook.IsActive = true;
            webhook.DisabledReason = null;
            webhook.UpdatedAt = Now();
            await db.SaveChangesAsync(ct);
            notifier.Publish(new WebhookStateChanged(webhook.Id, webhook.UserId, true, false, null, webhook.UpdatedAt));
        }
        var requeued = redeliverFailed ? (await deadLetters.RetryAsync(Visible(caller), null, id, ct)).Count : 0;
        logger.LogInformation("Webhook {WebhookId} enabled by user {UserId}; {Requeued} dead letters requeued", webhook.Id, caller.UserId, requeued);
        return new WebhookOutcome.Enabled(webhook, requeued);
    }

    /// <summary>
    /// Soft delete: the webhook stops receiving, its unfinished deliveries are cancelled in the same
    /// transaction, and its history stays for admins. The delivery job is expected to skip a delivery
    /// that is no longer pending or retrying when its Hangfire job fires.
    /// </summary>
    public async Task<WebhookOutcome> DeleteAsync(WebhookCaller caller, Guid id, CancellationToken ct = default)
    {
        var (webhook, denied) = await FindForChangeAsync(caller, id, ct);
        if (webhook is null) return denied!;

        var now = Now();
        webhook.DeletedAt = now;
        webhook.IsActive = false;
        webhook.UpdatedAt = now;
        var unfinished = await db.Deliveries
            .Where(d => d.WebhookId == id && (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying))
            .ToListAsync(ct);
        foreach (var delivery in unfinished)
        {
            delivery.Status = DeliveryStatus.Cancelled;
            delivery.NextAttemptAt = null;
            delivery.LastError = "The webhook was deleted.";
            delivery.UpdatedAt = now;
        }
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Webhook {WebhookId} deleted by user {UserId}; {Cancelled} unfinished deliveries cancelled",
            webhook.Id, caller.UserId, unfinished.Count);
        notifier.Publish(new WebhookStateChanged(webhook.Id, webhook.UserId, false, true, "The webhook was deleted.", now));
        return new WebhookOutcome.Done(webhook);
    }

    /// <summary>
    /// A new secret; the old one keeps signing beside it for the configured overlap so receivers can
    /// switch without dropping deliveries. Rotating again during an overlap retires the oldest secret at once.
    /// </summary>
    public async Task<WebhookOutcome> RotateSecretAsync(WebhookCaller caller, Guid id, CancellationToken ct = default)
    {
        var (webhook, denied) = await FindForChangeAsync(caller, id, ct);
        if (webhook is null) return denied!;

        var now = Now();
        var overlap = TimeSpan.FromHours(Math.Max(0, options.Value.Delivery.SecretRotationOverlapHours));
        var secret = WebhookSecret.Generate();
        webhook.PreviousSecret = overlap > TimeSpan.Zero ? webhook.Secret : null;
        webhook.PreviousSecretExpiresAt = overlap > TimeSpan.Zero ? now + overlap : null;
        webhook.Secret = protector.Protect(secret);
        webhook.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Secret of webhook {WebhookId} rotated by user {UserId}; previous secret signs until {Expiry}",
            webhook.Id, caller.UserId, webhook.PreviousSecretExpiresAt);
        return new WebhookOutcome.Done(webhook, secret);
    }

    public async Task<WebhookOutcome> RevealSecretAsync(WebhookCaller caller, Guid id, CancellationToken ct = default)
    {
        var (webhook, denied) = await FindForChangeAsync(caller, id, ct);
        if (webhook is null) return denied!;
        // An audit line: who looked at which secret, never the secret.
        logger.LogInformation("Secret of webhook {WebhookId} revealed to user {UserId}", webhook.Id, caller.UserId);
        return new WebhookOutcome.Done(webhook, protector.Unprotect(webhook.Secret));
    }

    /// <summary><see cref="WebhookVisibility.VisibleTo"/>, live webhooks only unless <paramref name="includeDeleted"/>.</summary>
    private IQueryable<Webhook> Visible(WebhookCaller caller, bool includeDeleted = false)
    {
        var visible = db.Webhooks.VisibleTo(caller);
        return includeDeleted ? visible : visible.Where(w => w.DeletedAt == null);
    }

    private async Task<(Webhook? Webhook, WebhookOutcome? Denied)> FindForChangeAsync(WebhookCaller caller, Guid id, CancellationToken ct)
    {
        var webhook = await Visible(caller).FirstOrDefaultAsync(w => w.Id == id, ct);
        if (webhook is null) return (null, new WebhookOutcome.NotFound());
        if (webhook.UserId != caller.UserId && !caller.IsAdmin) return (null, new WebhookOutcome.Forbidden());
        return (webhook, null);
    }

    private sealed record CleanInput(string Name, string Url, List<string> Events, List<string> Routes, bool IsActive, int? MaxPerSecond,
        bool RedriveOnRecovery);

    /// <summary>Checks every field (so one response names every problem) and returns the input tidied, or the errors.</summary>
    private async Task<(CleanInput? Clean, Dictionary<string, string> Errors)> ValidateAsync(WebhookInput input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);

        var name = input.Name?.Trim();
        if (NameError(name) is { } nameError) errors["name"] = nameError;

        var url = await urlValidator.ValidateAsync(input.Url, ct);
        if (!url.IsValid) errors["url"] = url.Error!;

        var events = ValidateEvents(input.Events, errors);
        var routes = ValidateRoutes(input.Routes, errors);
        if (input.MaxPerSecond is < 1 or > MaxPerSecondLimit)
            errors["maxPerSecond"] = $"maxPerSecond must be between 1 and {MaxPerSecondLimit}, or left out for no limit";

        return errors.Count > 0
            ? (null, errors)
            : (new CleanInput(name!, input.Url!.Trim(), events, routes, input.IsActive ?? true, input.MaxPerSecond, input.RedriveOnRecovery ?? true), errors);
    }

    private static List<string> ValidateEvents(IReadOnlyList<string?>? events, Dictionary<string, string> errors)
    {
        if (events is null) return [.. EventTypes.Subscribable];
        var known = string.Join(", ", EventTypes.Subscribable);
        if (events.Count == 0)
        {
            errors["events"] = $"events must name at least one event type ({known}), or be left out for all of them";
            return [];
        }
        var unknown = events.Where(e => e is null || !EventTypes.Subscribable.Contains(e)).ToList();
        if (unknown.Count > 0)
        {
            // webhook.test is delivered whenever its owner asks, so subscribing to it means nothing.
            errors["events"] = $"events contains unknown or unsubscribable types ({string.Join(", ", unknown.Select(e => e ?? "null"))}); known: {known}";
            return [];
        }
        return events.Distinct(StringComparer.Ordinal).ToList()!;
    }

    private static List<string> ValidateRoutes(IReadOnlyList<string?>? routes, Dictionary<string, string> errors)
    {
        if (routes is null) return [];
        if (routes.Count > MaxRoutes)
        {
            errors["routes"] = $"routes must have at most {MaxRoutes} entries";
            return [];
        }
        var clean = new List<string>(routes.Count);
        foreach (var route in routes)
        {
            var trimmed = route?.Trim();
            if (string.IsNullOrEmpty(trimmed))
            {
                errors["routes"] = "routes must not contain empty entries";
                return [];
            }
            if (trimmed.Length > MaxRouteLength)
            {
                errors["routes"] = $"each route must be at most {MaxRouteLength} characters";
                return [];
            }
            // Webhook.Wants compares routes ignoring case, so "A" and "a" are one route.
            if (!clean.Contains(trimmed, StringComparer.OrdinalIgnoreCase)) clean.Add(trimmed);
        }
        return clean;
    }

    private DateTime Now() => time.GetUtcNow().UtcDateTime;
}
