using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Webhooks;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Webhooks;

/// <summary>Webhook management (DESIGN.md §7). Test sends and delivery history live in their own endpoint group.</summary>
public static class WebhooksApi
{
    /// <summary>A webhook as lists and reads show it: never with its secret.</summary>
    public record WebhookResponse(
        Guid Id, string UserId, string Name, string Url, IReadOnlyList<string> Events, IReadOnlyList<string> Routes,
        bool IsActive, string? DisabledReason, DateTime CreatedAt, DateTime UpdatedAt, DateTime? PreviousSecretExpiresAt,
        int? MaxPerSecond, bool RedriveOnRecovery, CircuitResponse Circuit, RedriveProgress? Redrive)
    {
        /// <param name="circuit">This node's breaker for the webhook; closed when not given (a webhook just created).</param>
        public static WebhookResponse From(Webhook w, CircuitView? circuit = null, RedriveProgress? redrive = null) => new(
            w.Id, w.UserId, w.Name, w.Url, w.Events, w.Routes, w.IsActive, w.DisabledReason, w.CreatedAt, w.UpdatedAt,
            w.PreviousSecretExpiresAt, w.MaxPerSecond, w.RedriveOnRecovery,
            CircuitResponse.From(circuit ?? CircuitView.ClosedFor(w.Id)), redrive);

        public static WebhookResponse From(Webhook w, CircuitBreaker breaker, RedriveRunner redrives) =>
            From(w, breaker.View(w.Id), redrives.Of(w.Id));
    }

    /// <summary>The endpoint's circuit breaker: <c>closed</c>, <c>open</c> (no attempts until <see cref="NextProbeAt"/>) or <c>halfOpen</c> (one probe in flight).</summary>
    public sealed record CircuitResponse(CircuitState State, int ConsecutiveFailures, DateTime? NextProbeAt, DateTime? OpenSince, string? Reason)
    {
        public static CircuitResponse From(CircuitView view) => new(view.State, view.ConsecutiveFailures, view.NextProbeAt, view.OpenSince, view.Reason);
    }

    /// <summary>The only responses that carry the secret: create, rotate and reveal.</summary>
    public sealed record WebhookWithSecretResponse : WebhookResponse
    {
        public WebhookWithSecretResponse(WebhookResponse webhook, string secret) : base(webhook) => Secret = secret;

        public string Secret { get; }

        // Records print every member; keep the secret out of any log line or exception message.
        protected override bool PrintMembers(System.Text.StringBuilder builder)
        {
            base.PrintMembers(builder);
            builder.Append(", Secret = ***");
            return true;
        }
    }

    /// <summary>Body of <c>POST /api/webhooks/{id}/enable</c>; <see cref="RedeliverFailed"/> retries its dead letters.</summary>
    public sealed record EnableRequest(bool RedeliverFailed = false);

    public sealed record EnableResponse(WebhookResponse Webhook, int Requeued);

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks").WithTags("Webhooks")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapGet("/", ListWebhooks);
        group.MapPost("/", CreateWebhook).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}", GetWebhook).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id:guid}", UpdateWebhook).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteWebhook)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:guid}/rotate-secret", RotateSecret)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        // POST, not GET: a secret read must be a deliberate act. Browsers, proxies and link previews
        // never prefetch or cache a POST, and it stays out of access logs' query strings and history.
        group.MapPost("/{id:guid}/reveal-secret", RevealSecret)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        // Re-enabling after an auto-disable is a deliberate act with its own answer: how many failed
        // deliveries went back in the queue. PUT isActive=true also enables, without redelivery.
        group.MapPost("/{id:guid}/enable", EnableWebhook)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>Switches the webhook on; with <c>{"redeliverFailed": true}</c> also retries every dead letter of it. The body may be left out.</summary>
    public static async Task<Results<Ok<EnableResponse>, NotFound, ForbidHttpResult>> EnableWebhook(
        Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct, EnableRequest? request = null) =>
        await webhooks.EnableAsync(user.AsWebhookCaller(), id, request?.RedeliverFailed ?? false, ct) switch
        {
            WebhookOutcome.Enabled enabled => TypedResults.Ok(new EnableResponse(WebhookResponse.From(enabled.Webhook), enabled.Requeued)),
            WebhookOutcome.NotFound => TypedResults.NotFound(),
            WebhookOutcome.Forbidden => TypedResults.Forbid(),
            var other => throw Unexpected(other),
        };

    public static async Task<Ok<List<WebhookResponse>>> ListWebhooks(
        ClaimsPrincipal user, WebhookService webhooks, CircuitBreaker breaker, RedriveRunner redrives, CancellationToken ct) =>
        TypedResults.Ok((await webhooks.ListAsync(user.AsWebhookCaller(), ct)).Select(w => WebhookResponse.From(w, breaker, redrives)).ToList());

    public static async Task<Results<Ok<WebhookResponse>, NotFound>> GetWebhook(
        Guid id, ClaimsPrincipal user, WebhookService webhooks, CircuitBreaker breaker, RedriveRunner redrives, CancellationToken ct) =>
        await webhooks.GetAsync(user.AsWebhookCaller(), id, ct: ct) is { } webhook
            ? TypedResults.Ok(WebhookResponse.From(webhook, breaker, redrives))
            : TypedResults.NotFound();

    public static async Task<Results<Created<WebhookWithSecretResponse>, ValidationProblem, ProblemHttpResult>> CreateWebhook(
        WebhookInput request, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct) =>
        await webhooks.CreateAsync(user.AsWebhookCaller(), request, ct) switch
        {
            WebhookOutcome.Done done => TypedResults.Created($"/api/webhooks/{done.Webhook.Id}", WithSecret(done)),
            WebhookOutcome.Invalid invalid => Problem(invalid),
            WebhookOutcome.LimitReached limit => TypedResults.Problem(
                title: "Webhook limit reached", detail: limit.Detail, statusCode: StatusCodes.Status409Conflict),
            var other => throw Unexpected(other),
        };

    public static async Task<Results<Ok<WebhookResponse>, ValidationProblem, NotFound, ForbidHttpResult>> UpdateWebhook(
        Guid id, WebhookInput request, ClaimsPrincipal user, WebhookService webhooks, CircuitBreaker breaker, RedriveRunner redrives,
        CancellationToken ct) =>
        await webhooks.UpdateAsync(user.AsWebhookCaller(), id, request, ct) switch
        {
            WebhookOutcome.Done done => TypedResults.Ok(WebhookResponse.From(done.Webhook, breaker, redrives)),
            WebhookOutcome.Invalid invalid => Problem(invalid),
            WebhookOutcome.NotFound => TypedResults.NotFound(),
            WebhookOutcome.Forbidden => TypedResults.Forbid(),
            var other => throw Unexpected(other),
        };

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult>> DeleteWebhook(
        Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct) =>
        await webhooks.DeleteAsync(user.AsWebhookCaller(), id, ct) switch
        {
            WebhookOutcome.Done => TypedResults.NoContent(),
            WebhookOutcome.NotFound => TypedResults.NotFound(),
            WebhookOutcome.Forbidden => TypedResults.Forbid(),
            var other => throw Unexpected(other),
        };

    public static async Task<Results<Ok<WebhookWithSecretResponse>, NotFound, ForbidHttpResult>> RotateSecret(
        Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct) =>
        SecretResult(await webhooks.RotateSecretAsync(user.AsWebhookCaller(), id, ct));

    public static async Task<Results<Ok<WebhookWithSecretResponse>, NotFound, ForbidHttpResult>> RevealSecret(
        Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct) =>
        SecretResult(await webhooks.RevealSecretAsync(user.AsWebhookCaller(), id, ct));

    private static Results<Ok<WebhookWithSecretResponse>, NotFound, ForbidHttpResult> SecretResult(WebhookOutcome outcome) =>
        outcome switch
        {
            WebhookOutcome.Done done => TypedResults.Ok(WithSecret(done)),
            WebhookOutcome.NotFound => TypedResults.NotFound(),
            WebhookOutcome.Forbidden => TypedResults.Forbid(),
            var other => throw Unexpected(other),
        };

    private static WebhookWithSecretResponse WithSecret(WebhookOutcome.Done done) =>
        new(WebhookResponse.From(done.Webhook), done.Secret ?? throw new InvalidOperationException("This outcome carries no secret."));

    private static ValidationProblem Problem(WebhookOutcome.Invalid invalid)
    {
        var errors = new FieldErrors();
        foreach (var (field, message) in invalid.Errors) errors.Add(field, message);
        return errors.ToProblem();
    }

    private static InvalidOperationException Unexpected(WebhookOutcome outcome) =>
        new($"Unexpected outcome {outcome.GetType().Name} for this endpoint.");
}
