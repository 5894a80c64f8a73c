namespace WebhookHub.Web.Components.Shared;

/// <summary>Times as the pages show them: stored UTC, shown in UTC so every user and the logs agree.</summary>
public static class When
{
    public static string Utc(DateTime? value) =>
        value is { } v ? v.ToString("yyyy-MM-dd HH:mm:ss") + " UTC" : "—";

    /// <summary>"just now", "5 min ago", "3 h ago", else the date; the exact time goes in a tooltip.</summary>
    public static string Ago(DateTime? value, DateTime now)
    {
        if (value is not { } v) return "never";
        var age = now - v;
        return age.TotalSeconds switch
        {
            < 60 => "just now",
            < 3600 => $"{(int)age.TotalMinutes} min ago",
            < 86400 => $"{(int)age.TotalHours} h ago",
            _ => v.ToString("yyyy-MM-dd"),
        };
    }
}
