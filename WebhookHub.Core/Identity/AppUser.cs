using Microsoft.AspNetCore.Identity;

namespace WebhookHub.Core.Identity;

public sealed class AppUser : IdentityUser
{
    public DateTime CreatedAt { get; set; }

    /// <summary>Set by an admin: no sign-in, no API key, open circuits and hub connections end.</summary>
    public DateTime? DisabledAt { get; set; }

    /// <summary>The password was printed at first start (it sits in a console log): it must be changed before anything else.</summary>
    public bool MustChangePassword { get; set; }
}

public static class Roles
{
    public const string Admin = "Admin";
    public const string Operator = "Operator";
    public const string Customer = "Customer";

    /// <summary>A change-detection pipeline: posts and reads policy changes, nothing else.</summary>
    public const string Reporter = "Reporter";

    public static readonly string[] All = [Admin, Operator, Customer, Reporter];

    /// <summary>The roles that may use the app beyond policy changes (the default authorization policy).</summary>
    public static readonly string[] People = [Admin, Operator, Customer];
}
