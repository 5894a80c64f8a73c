using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Sources;

/// <summary>What a client sends to create or replace a source; null lists mean none, a null interval the default.</summary>
public sealed record SourceInput(
    string? Name, string? Url, string? Route, int? IntervalSeconds = null, string? Cron = null,
    IReadOnlyList<string?>? IncludeSelectors = null, IReadOnlyList<string?>? ExcludeSelectors = null,
    IReadOnlyList<string?>? IgnorePatterns = null, string? TriggerText = null,
    IReadOnlyDictionary<string, string?>? Headers = null, bool? IsActive = null);

/// <summary>What a request about one source came to; the API turns each case into one status code.</summary>
public abstract record SourceOutcome
{
    private SourceOutcome() { }

    public sealed record Done(Source Source) : SourceOutcome;

    public sealed record NotFound : SourceOutcome;

    /// <param name="Errors">Field name (as in the JSON body) → what is wrong with it.</param>
    public sealed record Invalid(IReadOnlyDictionary<string, string> Errors) : SourceOutcome;
}

/// <summary>One fetch with a form's rules, stored nowhere: the text a check would compare.</summary>
public sealed record SourcePreview(int? StatusCode, string? Text, string? Error);

/// <summary>
/// Sources in and out: validation (the same sentences for the API's 400 and the form), the check schedule kept in
/// step with each save, previews, and a source's check history and snapshots, newest first.
/// The schedule is <see cref="Source.NextCheckAt"/>: a save sets it (a new or switched-on source is due at once, for its
/// baseline), and the sweep (<see cref="SourceCheckJobs"/>) on a node with a Hangfire server picks due sources up.
/// </summary>
public sealed partial class SourceService(
    WebhookHubDbContext db,
    IWriteGate writes,
    WebhookUrlValidator urlValidator,
    PageFetcher fetcher,
    IOptions<WebhookHubOptions> options,
    TimeProvider time,
    ILogger<SourceService> log)
{
    public const int MaxNameLength = 200;
    public const int MaxRouteLength = 200;
    public const int MaxUrlLength = 2048;
    public const int MaxRules = 50;
    public const int MaxRuleLength = 1000;
    public const int MaxTriggerTextLength = 1000;
    public const int MaxHeaders = 20;
    public const int MaxHeaderValueLength = 4096;
    /// <summary>Thirty days: a rarer check is a cron's job.</summary>
    public const int MaxIntervalSeconds = 30 * 24 * 3600;
    public const int DefaultIntervalSeconds = 3600;

    /// <summary>
    /// Headers a source may not set: the connection's own (Host, Content-Length, …), the conditional GET's validators
    /// (the checker sends them), and the User-Agent (politeness: the site sees who fetches, WebhookHub:Sources:UserAgent).
    /// </summary>
    public static readonly IReadOnlySet<string> RefusedHeaders = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Expect",
        "Proxy-Connection", "Proxy-Authorization", "Content-Type", "Content-Encoding", "Accept-Encoding",
        "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range", "User-Agent",
    };

    public Task<List<Source>> ListAsync(CancellationToken ct = default) =>
        db.Sources.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);

    public Task<Source?> GetAsync(Guid id, CancellationToken ct = default) =>
        db.Sources.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);

    public async Task<SourceOutcome> CreateAsync(SourceInput input, CancellationToken ct = default)
    {
        var (clean, errors) = await ValidateAsync(input, ct);
        if (clean is null) return new SourceOutcome.Invalid(errors);
        var now = Now();
        var source = new Source
        {
            Id = Guid.CreateVersion7(), Name = clean.Name, Url = clean.Url, Route = clean.Route, CreatedAt = now, UpdatedAt = now,
        };
        Apply(source, clean);
        // Due at once: the first check stores the baseline, so the next one has something to compare with.
        source.NextCheckAt = source.IsActive ? now : null;
        db.Sources.Add(source);
        await writes.SaveChangesAsync(db, ct);
        // A page's scope lives as long as its circuit: nothing stays tracked to be saved, or read stale, by a later call.
        db.ChangeTracker.Clear();
        LogSaved(source.Id, "created", source.Url);
        return new SourceOutcome.Done(source);
    }

    /// <summary>
    /// PUT semantics: every field is replaced; one left out takes its default, as on create. A new URL, headers or
    /// extraction rules start a new baseline (the next check compares nothing, and sends no validators): the text
    /// they give differs from the last snapshot's without the page having changed.
    /// </summary>
    public async Task<SourceOutcome> UpdateAsync(Guid id, SourceInput input, CancellationToken ct = default)
    {
        var (clean, errors) = await ValidateAsync(input, ct);
        if (clean is null) return new SourceOutcome.Invalid(errors);
        // The snapshot switch is a concurrency token: a check that switched it between our read and our save makes the
        // save fail; read again and apply the same input (a few times at most: checks are seconds apart).
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var source = await db.Sources.FirstOrDefaultAsync(s => s.Id == id, ct);
            if (source is null) return new SourceOutcome.NotFound();
            var now = Now();
            var rulesChanged = source.Url != clean.Url
                || !source.IncludeSelectors.SequenceEqual(clean.IncludeSelectors) || !source.ExcludeSelectors.SequenceEqual(clean.ExcludeSelectors)
                || !source.IgnorePatterns.SequenceEqual(clean.IgnorePatterns)
                || source.Headers.Count != clean.Headers.Count || source.Headers.Except(clean.Headers).Any();
            var scheduleChanged = source.IntervalSeconds != clean.IntervalSeconds || source.Cron != clean.Cron || source.IsActive != clean.IsActive;
            source.Name = clean.Name;
            source.Url = clean.Url;
            source.Route = clean.Route;
            Apply(source, clean);
            source.UpdatedAt = now;
            if (rulesChanged)
            {
                source.LatestSnapshotId = null;
                source.ETag = null;
                source.LastModified = null;
            }
            if (!source.IsActive) source.NextCheckAt = null;
            else if (rulesChanged || source.NextCheckAt is null) source.NextCheckAt = now;
            else if (scheduleChanged)
            {
                // The new schedule counts from the last check; a person's edit also ends any backoff.
                var regular = SourceSchedule.Regular(source, source.LastCheckedAt ?? now);
                source.NextCheckAt = regular is { } at && at < now ? now : regular;
            }
            try
            {
                await writes.SaveChangesAsync(db, ct);
                db.ChangeTracker.Clear();
                LogSaved(source.Id, rulesChanged ? "updated (new baseline)" : "updated", source.Url);
                return new SourceOutcome.Done(source);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // Read again at the top of the loop.
            }
        }
    }

    /// <summary>Deletes the source with its checks and snapshots; the policy changes it reported stay.</summary>
    public async Task<SourceOutcome> DeleteAsync(Guid id, CancellationToken ct = default)
    {
        var source = await db.Sources.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (source is null) return new SourceOutcome.NotFound();
        // The database cascades to source_checks and source_snapshots (one statement: nothing half-deleted).
        var deleted = await writes.RunAsync(() => db.Sources.Where(s => s.Id == id).ExecuteDeleteAsync(ct), ct);
        if (deleted == 0) return new SourceOutcome.NotFound();
        LogSaved(id, "deleted", source.Url);
        return new SourceOutcome.Done(source);
    }

    /// <summary>Validates the input's URL and rules, fetches once, and extracts: Invalid, or the preview.</summary>
    public async Task<(IReadOnlyDictionary<string, string>? Errors, SourcePreview? Preview)> PreviewAsync(SourceInput input, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var url = await ValidateUrlAsync(input.Url, errors, ct);
        var include = ValidateRules(input.IncludeSelectors, "includeSelectors", TextExtractor.SelectorError, errors);
        var exclude = ValidateRules(input.ExcludeSelectors, "excludeSelectors", TextExtractor.SelectorError, errors);
        var ignore = ValidateRules(input.IgnorePatterns, "ignorePatterns", ChangeRules.PatternError, errors);
        var headers = ValidateHeaders(input.Headers, errors);
        if (errors.Count > 0) return (errors, null);

        var fetched = await fetcher.FetchAsync(new FetchRequest(url!, headers), ct);
        if (fetched.Error is not null || fetched.Body is null)
            return (null, new SourcePreview(fetched.StatusCode, null, fetched.Error ?? $"HTTP {fetched.StatusCode} without a body"));
        var extracted = TextExtractor.Extract(fetched.Body, fetched.ContentType, include, exclude);
        return extracted.Text is null
            ? (null, new SourcePreview(fetched.StatusCode, null, extracted.Error ?? "No text could be extracted."))
            : (null, new SourcePreview(fetched.StatusCode, ChangeRules.Apply(extracted.Text, ignore), null));
    }

    public async Task<(List<SourceCheck> Items, int Total)> ChecksAsync(Guid sourceId, int skip, int take, CancellationToken ct = default)
    {
        var query = db.SourceChecks.AsNoTracking().Where(c => c.SourceId == sourceId);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(c => c.StartedAt).ThenByDescending(c => c.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500)).ToListAsync(ct);
        return (items, total);
    }

    /// <summary>Snapshots newest first, without their text (it can be large).</summary>
    public async Task<(List<SnapshotListItem> Items, int Total)> SnapshotsAsync(Guid sourceId, int skip, int take, CancellationToken ct = default)
    {
        var query = db.SourceSnapshots.AsNoTracking().Where(s => s.SourceId == sourceId);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(s => s.TakenAt).ThenByDescending(s => s.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 500))
            .Select(s => new SnapshotListItem(s.Id, s.TakenAt, s.ContentHash, s.Text.Length))
            .ToListAsync(ct);
        return (items, total);
    }

    public Task<SourceSnapshot?> SnapshotAsync(Guid sourceId, Guid snapshotId, CancellationToken ct = default) =>
        db.SourceSnapshots.AsNoTracking().FirstOrDefaultAsync(s => s.SourceId == sourceId && s.Id == snapshotId, ct);

    /// <summary>Field (as in the JSON body) → what is wrong; every field is checked, so one answer names every problem.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ValidateFieldsAsync(SourceInput input, CancellationToken ct = default) =>
        (await ValidateAsync(input, ct)).Errors;

    private sealed record CleanInput(
        string Name, string Url, string Route, int IntervalSeconds, string? Cron, List<string> IncludeSelectors, List<string> ExcludeSelectors,
        List<string> IgnorePatterns, string? TriggerText, Dictionary<string, string> Headers, bool IsActive);

    private static void Apply(Source source, CleanInput clean)
    {
        source.IntervalSeconds = clean.IntervalSeconds;
        source.Cron = clean.Cron;
        source.IncludeSelectors = clean.IncludeSelectors;
        source.ExcludeSelectors = clean.ExcludeSelectors;
        source.IgnorePatterns = clean.IgnorePatterns;
        source.TriggerText = clean.TriggerText;
        source.Headers = clean.Headers;
        source.IsActive = clean.IsActive;
    }

    private async Task<(CleanInput? Clean, Dictionary<string, string> Errors)> ValidateAsync(SourceInput input, CancellationToken ct)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var sources = options.Value.Sources;

        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors["name"] = "name is required.";
        else if (name.Length > MaxNameLength) errors["name"] = $"name must be at most {MaxNameLength} characters.";

        var url = await ValidateUrlAsync(input.Url, errors, ct);

        var route = input.Route?.Trim();
        if (string.IsNullOrEmpty(route)) errors["route"] = "route is required: the policy changes of this source are reported on it.";
        else if (route.Length > MaxRouteLength) errors["route"] = $"route must be at most {MaxRouteLength} characters.";

        var cron = string.IsNullOrWhiteSpace(input.Cron) ? null : input.Cron.Trim();
        if (cron is not null && SourceSchedule.CronError(cron, sources.MinIntervalSeconds, Now()) is { } cronError) errors["cron"] = cronError;
        var interval = input.IntervalSeconds ?? DefaultIntervalSeconds;
        // With a cron the interval is not used, but it is kept (switching the cron off brings it back), so it must still be sane.
        if (cron is null && interval < sources.MinIntervalSeconds)
            errors["intervalSeconds"] = $"intervalSeconds must be at least {sources.MinIntervalSeconds} (WebhookHub:Sources:MinIntervalSeconds), or give a cron.";
        else if (interval is < 1 or > MaxIntervalSeconds)
            errors["intervalSeconds"] = $"intervalSeconds must be between {sources.MinIntervalSeconds} and {MaxIntervalSeconds} (30 days); for rarer checks give a cron.";

        var include = ValidateRules(input.IncludeSelectors, "includeSelectors", TextExtractor.SelectorError, errors);
        var exclude = ValidateRules(input.ExcludeSelectors, "excludeSelectors", TextExtractor.SelectorError, errors);
        var ignore = ValidateRules(input.IgnorePatterns, "ignorePatterns", ChangeRules.PatternError, errors);

        var trigger = string.IsNullOrWhiteSpace(input.TriggerText) ? null : input.TriggerText.Trim();
        if (trigger is { Length: > MaxTriggerTextLength }) errors["triggerText"] = $"triggerText must be at most {MaxTriggerTextLength} characters.";

        var headers = ValidateHeaders(input.Headers, errors);

        return errors.Count > 0
            ? (null, errors)
            : (new CleanInput(name!, url!, route!, interval, cron, include, exclude, ignore, trigger, headers, input.IsActive ?? true), errors);
    }

    /// <summary>The webhook URL rules (https unless AllowHttp, no credentials, public addresses unless AllowPrivateNetworks, ports, DNS).</summary>
    private async Task<string?> ValidateUrlAsync(string? url, Dictionary<string, string> errors, CancellationToken ct)
    {
        var verdict = await urlValidator.ValidateAsync(url, ct);
        if (verdict.IsValid) return url!.Trim();
        errors["url"] = verdict.Error!.EndsWith('.') ? verdict.Error : verdict.Error + ".";
        return null;
    }

    /// <summary>Each entry non-empty and usable (<paramref name="error"/>); a bad entry is named by its index, e.g. <c>includeSelectors[2]</c>.</summary>
    private static List<string> ValidateRules(IReadOnlyList<string?>? rules, string field, Func<string, string?> error, Dictionary<string, string> errors)
    {
        if (rules is null) return [];
        if (rules.Count > MaxRules)
        {
            errors[field] = $"{field} may have at most {MaxRules} entries.";
            return [];
        }
        var clean = new List<string>(rules.Count);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var key = $"{field}[{i}]";
            if (string.IsNullOrWhiteSpace(rule)) errors[key] = $"{key} must not be empty.";
            else if (rule.Length > MaxRuleLength) errors[key] = $"{key} must be at most {MaxRuleLength} characters.";
            else if (error(rule.Trim()) is { } why) errors[key] = $"{key}: {why}";
            else if (!clean.Contains(rule.Trim(), StringComparer.Ordinal)) clean.Add(rule.Trim());
        }
        return clean;
    }

    private static Dictionary<string, string> ValidateHeaders(IReadOnlyDictionary<string, string?>? headers, Dictionary<string, string> errors)
    {
        var clean = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (headers is null) return clean;
        if (headers.Count > MaxHeaders)
        {
            errors["headers"] = $"headers may have at most {MaxHeaders} entries.";
            return clean;
        }
        foreach (var (name, value) in headers)
        {
            string? why = null;
            if (!HeaderName().IsMatch(name)) why = $"header name \"{Shorten(name)}\" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only).";
            else if (RefusedHeaders.Contains(name) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
                why = $"header {name} is set by WebhookHub itself and may not be given.";
            else if (value is null) why = $"header {name} needs a value.";
            else if (value.Length > MaxHeaderValueLength) why = $"header {name} must be at most {MaxHeaderValueLength} characters.";
            else if (value.Any(c => c is '\r' or '\n' or '\0')) why = $"header {name} must not contain line breaks.";
            else if (!clean.TryAdd(name, value.Trim())) why = $"header {name} is given twice.";
            if (why is null) continue;
            errors["headers"] = why;
            return clean;
        }
        return clean;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>An HTTP token (RFC 9110 §5.6.2).</summary>
    [GeneratedRegex("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]{1,100}$")]
    private static partial Regex HeaderName();

    private DateTime Now() => time.GetUtcNow().UtcDateTime;

    [LoggerMessage(Level = LogLevel.Information, Message = "Source {SourceId} {What} ({Url})")]
    private partial void LogSaved(Guid sourceId, string what, string url);
}

public sealed record SnapshotListItem(Guid Id, DateTime TakenAt, string ContentHash, int Length);
