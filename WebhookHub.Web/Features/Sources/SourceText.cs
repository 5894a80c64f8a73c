using MudBlazor;
using WebhookHub.Core.Sources;

namespace WebhookHub.Web.Features.Sources;

/// <summary>How the source pages word a schedule and a check's outcome, the same on every page.</summary>
public static class SourceText
{
    public static string Schedule(Source source) =>
        source.Cron is { Length: > 0 } cron ? $"cron {cron} (UTC)" : "every " + Interval(source.IntervalSeconds);

    public static string Interval(int seconds) => seconds switch
    {
        _ when seconds % 86400 == 0 => $"{seconds / 86400} d",
        _ when seconds % 3600 == 0 => $"{seconds / 3600} h",
        _ when seconds % 60 == 0 => $"{seconds / 60} min",
        _ => $"{seconds} s",
    };

    public static string Outcome(SourceCheckOutcome outcome) => outcome switch
    {
        SourceCheckOutcome.Baseline => "baseline",
        SourceCheckOutcome.NotModified => "not modified",
        SourceCheckOutcome.Unchanged => "unchanged",
        SourceCheckOutcome.NotTriggered => "changed, not triggered",
        SourceCheckOutcome.Changed => "changed",
        _ => "failed",
    };

    public static Color OutcomeColor(SourceCheckOutcome outcome) => outcome switch
    {
        SourceCheckOutcome.Changed => Color.Primary,
        SourceCheckOutcome.Failed => Color.Error,
        SourceCheckOutcome.Baseline or SourceCheckOutcome.NotTriggered => Color.Info,
        _ => Color.Success,
    };

    /// <summary>Where a reported change can be read (with its diff); the pages have no view of one change of their own.</summary>
    public static string PolicyChangeUrl(Guid policyChangeId) => $"/api/policy-changes/{policyChangeId}";
}
