using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Sources;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Sources;

/// <summary>
/// Sources (issue 17): pages WebhookHub watches itself; each real change becomes a policy change. Admins and Reporters
/// create, change, delete and check them; every signed-in role reads them.
/// </summary>
public static class SourcesApi
{
    /// <summary>A source as the API shows it: its settings, and what its checks left behind.</summary>
    public sealed record SourceResponse(
        Guid Id, string Name, string Url, string Route, int IntervalSeconds, string? Cron, IReadOnlyList<string> IncludeSelectors,
        IReadOnlyList<string> ExcludeSelectors, IReadOnlyList<string> IgnorePatterns, string? TriggerText,
        IReadOnlyDictionary<string, string> Headers, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt,
        Guid? LatestSnapshotId, DateTime? LastCheckedAt, DateTime? NextCheckAt, int? LastStatusCode, string? LastError, int ConsecutiveFailures)
    {
        /// <param name="showHeaderValues">Header values may hold a cookie or a token: only those who may change the source see them.</param>
        public static SourceResponse From(Source s, bool showHeaderValues = true) => new(
            s.Id, s.Name, s.Url, s.Route, s.IntervalSeconds, s.Cron, s.IncludeSelectors, s.ExcludeSelectors, s.IgnorePatterns, s.TriggerText,
            showHeaderValues ? s.Headers : s.Headers.ToDictionary(h => h.Key, _ => HiddenValue), s.IsActive, s.CreatedAt, s.UpdatedAt, s.LatestSnapshotId, s.LastCheckedAt, s.NextCheckAt, s.LastStatusCode, s.LastError,
            s.ConsecutiveFailures);
    }

    /// <summary>What a reader who may not change sources sees instead of a header's value.</summary>
    public const string HiddenValue = "***";

    /// <summary>What "check now" came to: <see cref="Changed"/> with the policy change it reported, or why not.</summary>
    public sealed record CheckNowResponse(bool Changed, Guid? PolicyChangeId, int? StatusCode, string? Error, SourceCheckOutcome Outcome);

    public sealed record CheckResponse(
        Guid Id, DateTime StartedAt, int DurationMs, int? StatusCode, SourceCheckOutcome Outcome, string? Error, string Trigger,
        Guid? SnapshotId, Guid? PolicyChangeId)
    {
        public static CheckResponse From(SourceCheck c) =>
            new(c.Id, c.StartedAt, c.DurationMs, c.StatusCode, c.Outcome, c.Error, c.Trigger, c.SnapshotId, c.PolicyChangeId);
    }

    public sealed record SnapshotResponse(Guid Id, DateTime TakenAt, string ContentHash, int Length, string Text);

    /// <summary>The text a check would compare, or why there is none (<see cref="Error"/>); nothing is stored.</summary>
    public sealed record PreviewResponse(int? StatusCode, string? Text, string? Error);

    public static IEndpointRouteBuilder MapSourcesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sources").WithTags("Sources")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        // A Reporter is a change-detection pipeline's key; watching pages is the same job done here.
        var write = group.MapGroup("").RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Reporter));
        write.MapPost("/", CreateSource).ProducesValidationProblem();
        write.MapPut("/{id:guid}", UpdateSource).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        write.MapDelete("/{id:guid}", DeleteSource).ProducesProblem(StatusCodes.Status404NotFound);
        write.MapPost("/{id:guid}/check", CheckNow).ProducesProblem(StatusCodes.Status404NotFound);
        write.MapPost("/preview", PreviewSource).ProducesValidationProblem();
        var read = group.MapGroup("").RequireAuthorization(p => p.RequireRole(Roles.All));
        read.MapGet("/", ListSources);
        read.MapGet("/{id:guid}", GetSource).ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/{id:guid}/snapshots", ListSnapshots).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/{id:guid}/snapshots/{snapshotId:guid}", GetSnapshot).ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/{id:guid}/checks", ListChecks).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<List<SourceResponse>>> ListSources(ClaimsPrincipal user, SourceService sources, CancellationToken ct) =>
        TypedResults.Ok((await sources.ListAsync(ct)).Select(s => SourceResponse.From(s, SourceAccess.MayEdit(user))).ToList());

    public static async Task<Results<Ok<SourceResponse>, NotFound>> GetSource(Guid id, ClaimsPrincipal user, SourceService sources, CancellationToken ct) =>
        await sources.GetAsync(id, ct) is { } source ? TypedResults.Ok(SourceResponse.From(source, SourceAccess.MayEdit(user))) : TypedResults.NotFound();

    /// <summary>Saves the source; its first check (the baseline, which reports nothing) is due at once.</summary>
    public static async Task<Results<Created<SourceResponse>, ValidationProblem>> CreateSource(
        SourceInput request, SourceService sources, CancellationToken ct) =>
        await sources.CreateAsync(request, ct) switch
        {
            SourceOutcome.Done done => TypedResults.Created($"/api/sources/{done.Source.Id}", SourceResponse.From(done.Source)),
            SourceOutcome.Invalid invalid => Problem(invalid.Errors),
            var other => throw Unexpected(other),
        };

    /// <summary>Replaces every field (one left out takes its default). A new URL, headers or rules start a new baseline.</summary>
    public static async Task<Results<Ok<SourceResponse>, ValidationProblem, NotFound>> UpdateSource(
        Guid id, SourceInput request, SourceService sources, CancellationToken ct) =>
        await sources.UpdateAsync(id, request, ct) switch
        {
            SourceOutcome.Done done => TypedResults.Ok(SourceResponse.From(done.Source)),
            SourceOutcome.Invalid invalid => Problem(invalid.Errors),
            SourceOutcome.NotFound => TypedResults.NotFound(),
            var other => throw Unexpected(other),
        };

    /// <summary>Deletes the source, its checks and snapshots; the policy changes it reported stay.</summary>
    public static async Task<Results<NoContent, NotFound>> DeleteSource(Guid id, SourceService sources, CancellationToken ct) =>
        await sources.DeleteAsync(id, ct) switch
        {
            SourceOutcome.Done => TypedResults.NoContent(),
            SourceOutcome.NotFound => TypedResults.NotFound(),
            var other => throw Unexpected(other),
        };

    /// <summary>Checks the source now (switched off or not) and answers when the check is recorded.</summary>
    public static async Task<Results<Ok<CheckNowResponse>, NotFound>> CheckNow(Guid id, SourceChecker checker, CancellationToken ct) =>
        await checker.CheckAsync(id, SourceChecker.Manual, ct) is { } result
            ? TypedResults.Ok(new CheckNowResponse(result.Changed, result.PolicyChangeId, result.StatusCode, result.Error, result.Outcome))
            : TypedResults.NotFound();

    /// <summary>Fetches the page once with the body's URL, headers and rules, and answers with the text a check would compare.</summary>
    public static async Task<Results<Ok<PreviewResponse>, ValidationProblem>> PreviewSource(SourceInput request, SourceService sources, CancellationToken ct)
    {
        var (errors, preview) = await sources.PreviewAsync(request, ct);
        return errors is not null ? Problem(errors) : TypedResults.Ok(new PreviewResponse(preview!.StatusCode, preview.Text, preview.Error));
    }

    /// <summary>Newest first, without the text (<c>GET …/snapshots/{snapshotId}</c> has it).</summary>
    public static async Task<Results<Ok<PagedList<SnapshotListItem>>, ValidationProblem, NotFound>> ListSnapshots(
        Guid id, SourceService sources, CancellationToken ct, int page = 1, int pageSize = 50)
    {
        if (Paging.Validate(page, pageSize) is { } problem) return problem;
        if (await sources.GetAsync(id, ct) is null) return TypedResults.NotFound();
        var (items, total) = await sources.SnapshotsAsync(id, (page - 1) * pageSize, pageSize, ct);
        return TypedResults.Ok(new PagedList<SnapshotListItem>(items, page, pageSize, total));
    }

    public static async Task<Results<Ok<SnapshotResponse>, NotFound>> GetSnapshot(Guid id, Guid snapshotId, SourceService sources, CancellationToken ct) =>
        await sources.SnapshotAsync(id, snapshotId, ct) is { } s
            ? TypedResults.Ok(new SnapshotResponse(s.Id, s.TakenAt, s.ContentHash, s.Text.Length, s.Text))
            : TypedResults.NotFound();

    /// <summary>The source's checks, newest first.</summary>
    public static async Task<Results<Ok<PagedList<CheckResponse>>, ValidationProblem, NotFound>> ListChecks(
        Guid id, SourceService sources, CancellationToken ct, int page = 1, int pageSize = 50)
    {
        if (Paging.Validate(page, pageSize) is { } problem) return problem;
        if (await sources.GetAsync(id, ct) is null) return TypedResults.NotFound();
        var (items, total) = await sources.ChecksAsync(id, (page - 1) * pageSize, pageSize, ct);
        return TypedResults.Ok(new PagedList<CheckResponse>(items.Select(CheckResponse.From).ToList(), page, pageSize, total));
    }

    private static ValidationProblem Problem(IReadOnlyDictionary<string, string> errors) =>
        errors.Aggregate(new FieldErrors(), (e, kv) => e.Add(kv.Key, kv.Value)).ToProblem();

    private static InvalidOperationException Unexpected(SourceOutcome outcome) =>
        new($"Unexpected outcome {outcome.GetType().Name} for this endpoint.");
}
