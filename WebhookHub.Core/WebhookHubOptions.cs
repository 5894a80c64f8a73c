namespace WebhookHub.Core;

/// <summary>The <c>WebhookHub</c> configuration section (repo-root appsettings.json, or WebhookHub__… variables).</summary>
public sealed class WebhookHubOptions
{
    public const string Section = "WebhookHub";

    /// <summary>Where app.db, hangfire.db and the Data Protection keys live.</summary>
    public string DataDirectory { get; set; } = "./data";

    public DeliveryOptions Delivery { get; set; } = new();

    public BootstrapOptions Bootstrap { get; set; } = new();

    public RetentionOptions Retention { get; set; } = new();

    public DataProtectionSettings DataProtection { get; set; } = new();

    /// <summary>
    /// The address receivers use to reach this app (e.g. <c>https://hub.example.com</c>); makes a cut
    /// diff's <c>diffUrl</c> absolute. Background jobs have no request to learn it from.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>What a relative <see cref="DataDirectory"/> is relative to: the folder of the settings file, else the working directory.</summary>
    public string? BasePath { get; set; }

    public string FullDataDirectory => Path.GetFullPath(DataDirectory, BasePath ?? Directory.GetCurrentDirectory());
}

public sealed class DeliveryOptions
{
    /// <summary>Lets webhook URLs use plain http; for local testing only.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Lets webhook URLs reach loopback and private networks, on any port; for local testing only.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Ports a webhook URL may use besides 443 and 80 (e.g. 8443).</summary>
    public int[] AdditionalPorts { get; set; } = [];

    public static readonly int[] DefaultRetryDelaysSeconds = [1, 2, 4, 8, 16];

    /// <summary>
    /// Delay before each retry; its length is the number of retries. Empty means
    /// <see cref="DefaultRetryDelaysSeconds"/> (six attempts): the configuration binder appends configured
    /// items to an array that already has some, so the default cannot live in the initializer.
    /// </summary>
    public int[] RetryDelaysSeconds { get; set; } = [];

    /// <summary>The schedule in force: the configured one, else the default.</summary>
    public int[] RetrySchedule => RetryDelaysSeconds.Length > 0 ? RetryDelaysSeconds : DefaultRetryDelaysSeconds;

    /// <summary>Longest <c>Retry-After</c> a receiver may ask for before we cap it.</summary>
    public int MaxRetryAfterSeconds { get; set; } = 300;

    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>How many POSTs one fan-out has in flight at once; bounds sockets and memory per policy change.</summary>
    public int MaxParallelSends { get; set; } = 64;

    /// <summary>How many policy changes fan out at once in-process.</summary>
    public int FanoutConcurrency { get; set; } = 8;

    /// <summary>Stored changes waiting for a fan-out worker in memory; past it, the minutely owed sweep picks them up.</summary>
    public int FanoutQueueCapacity { get; set; } = 10_000;

    /// <summary>Open connections per receiver host; pooled and reused across deliveries.</summary>
    public int MaxConnectionsPerServer { get; set; } = 256;

    /// <summary>How long a rotated-out secret keeps signing beside the new one.</summary>
    public int SecretRotationOverlapHours { get; set; } = 24;

    public AutoDisableOptions AutoDisable { get; set; } = new();
}

/// <summary>
/// <c>WebhookHub:Delivery:AutoDisable</c>: when a webhook that keeps failing is switched off. Both
/// conditions must hold, so that a burst of changes during a short outage (a receiver's deploy) does
/// not disable it, and neither does one failure a day for a week. A 410 Gone disables at once.
/// </summary>
public sealed class AutoDisableOptions
{
    /// <summary>Dead-lettered deliveries in a row, with no success between them; 0 turns the rule off.</summary>
    public int ConsecutiveDeadLetters { get; set; } = 10;

    /// <summary>How long the run of failures must have lasted, from the first one's creation to the latest.</summary>
    public int MinimumMinutes { get; set; } = 60;

    /// <summary>A receiver answering 410 Gone says the endpoint is gone for good.</summary>
    public bool OnGone { get; set; } = true;
}

/// <summary><c>WebhookHub:Retention</c>: how long delivery history is kept.</summary>
public sealed class RetentionOptions
{
    /// <summary>Attempt rows, finished deliveries and their events older than this are purged; 0 keeps everything.</summary>
    public int Days { get; set; } = 30;

    /// <summary>
    /// Hour and day rollups (the monitoring figures) older than this are purged (minute rollups after 2 days);
    /// kept far longer than attempts because they are small and feed the 7- and 30-day windows. 0 keeps everything.
    /// </summary>
    public int RollupDays { get; set; } = 400;

    /// <summary>Rows per delete; each batch is its own short transaction, so deliveries never wait long for the write lock.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>When the purge runs (cron, UTC); hourly keeps each run small.</summary>
    public string Cron { get; set; } = "17 * * * *";
}

public sealed class BootstrapOptions
{
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
    public string? AdminApiKey { get; set; }
}

/// <summary>
/// <c>WebhookHub:DataProtection</c>: the certificate that encrypts the Data Protection key ring at rest
/// (the keys that encrypt webhook secrets). Without one the key files are plain XML under keys/.
/// </summary>
public sealed class DataProtectionSettings
{
    /// <summary>A PKCS#12 (.pfx) file with the private key.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Instead of a file: a certificate in the current user's or machine's store.</summary>
    public string? CertificateThumbprint { get; set; }

    public bool IsConfigured => !string.IsNullOrEmpty(CertificatePath) || !string.IsNullOrEmpty(CertificateThumbprint);
}
