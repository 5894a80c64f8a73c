namespace WebhookHub.Core;

/// <summary>The <c>WebhookHub</c> configuration section (repo-root appsettings.json, or WebhookHub__… variables).</summary>
public sealed class WebhookHubOptions
{
    public const string Section = "WebhookHub";

    /// <summary>Where the Data Protection keys live, and on SQLite app.db and hangfire.db.</summary>
    public string DataDirectory { get; set; } = "./data";

    public DatabaseOptions Database { get; set; } = new();

    /// <summary>
    /// What this node runs (<c>WebhookHub:Role</c>): everything (the default), only the web side (UI, API, hubs), or
    /// only the background side (fan-out, Hangfire server, sweeps; <c>/health</c> and <c>/metrics</c>). Web and
    /// worker need PostgreSQL: several nodes share one database.
    /// </summary>
    public NodeRole Role { get; set; } = NodeRole.All;

    /// <summary>
    /// This node's name in logs, fan-out claims and the events bridge (<c>WebhookHub:NodeId</c>); unset: host name
    /// and process id. Set it to a stable name and a restarted node takes its own dead claims back at once instead
    /// of after their lease runs out.
    /// </summary>
    public string? NodeId { get; set; }

    public string Node => string.IsNullOrWhiteSpace(NodeId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : NodeId.Trim();

    public HangfireSettings Hangfire { get; set; } = new();

    public DeliveryOptions Delivery { get; set; } = new();

    public BootstrapOptions Bootstrap { get; set; } = new();

    public RetentionOptions Retention { get; set; } = new();

    public DataProtectionSettings DataProtection { get; set; } = new();

    public QuotaOptions Quotas { get; set; } = new();

    /// <summary>Pages WebhookHub watches itself (see <see cref="SourceOptions"/>).</summary>
    public SourceOptions Sources { get; set; } = new();

    /// <summary>
    /// The address receivers use to reach this app (e.g. <c>https://hub.example.com</c>); makes a cut
    /// diff's <c>diffUrl</c> absolute. Background jobs have no request to learn it from.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>What a relative <see cref="DataDirectory"/> is relative to: the folder of the settings file, else the working directory.</summary>
    public string? BasePath { get; set; }

    public string FullDataDirectory => Path.GetFullPath(DataDirectory, BasePath ?? Directory.GetCurrentDirectory());

    /// <summary>Data Protection's key files on SQLite; on PostgreSQL the keys are in the database and files found here are copied in once.</summary>
    public string KeyDirectory => Path.Combine(FullDataDirectory, "keys");
}

public enum NodeRole
{
    /// <summary>One process does everything: the only role on SQLite.</summary>
    All,
    /// <summary>UI, API and hubs; no Hangfire server and no fan-out: stored changes are claimed by workers.</summary>
    Web,
    /// <summary>Fan-out, Hangfire server and sweeps; serves only <c>/health</c> and <c>/metrics</c>.</summary>
    Worker,
}

public static class NodeRoles
{
    public static bool RunsBackgroundWork(this NodeRole role) => role != NodeRole.Web;
    public static bool ServesWeb(this NodeRole role) => role != NodeRole.Worker;
}

public enum DatabaseProvider
{
    /// <summary>The embedded default: app.db and hangfire.db under the data directory.</summary>
    Sqlite,
    /// <summary>PostgreSQL at <c>ConnectionStrings:WebhookHub</c>: the app's tables and Hangfire's schema in one database.</summary>
    Postgres,
}

/// <summary><c>WebhookHub:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}

/// <summary><c>WebhookHub:Hangfire</c>: how often Hangfire polls its storage, and how many workers it runs.</summary>
public sealed class HangfireSettings
{
    public int QueuePollIntervalMs { get; set; } = 200;
    public int SchedulePollingIntervalMs { get; set; } = 200;
    /// <summary>
    /// Hangfire workers; unset: 20 on SQLite, 10 on PostgreSQL. On PostgreSQL every job is some thirty round
    /// trips to a server that may share the cores: with 20 workers and 2 cores, 200 retries due at once came
    /// up to 4.5 s after their 1 s schedule, with 10 up to 3.7 s (RetryStormTests).
    /// </summary>
    public int? WorkerCount { get; set; }

    public int WorkersFor(DatabaseProvider provider) => WorkerCount ?? (provider == DatabaseProvider.Postgres ? 10 : 20);

    /// <summary>Due jobs the scheduler enqueues at once, where the storage can batch (PostgreSQL).</summary>
    public int SchedulerParallelism { get; set; } = 4;
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

    /// <summary>Per-endpoint lanes, circuit breaker and redrive (see <see cref="EndpointOptions"/>).</summary>
    public EndpointOptions Endpoints { get; set; } = new();
}

/// <summary>
/// <c>WebhookHub:Delivery:Endpoints</c>: what keeps one slow or broken endpoint from taking capacity the
/// others need. An endpoint is a webhook; a host is the URL's host and port.
/// </summary>
public sealed class EndpointOptions
{
    /// <summary>Attempts in flight to one webhook at once; more wait in its lane (scheduled a moment later), never in a shared worker.</summary>
    public int MaxInFlightPerEndpoint { get; set; } = 8;

    /// <summary>
    /// Attempts in flight to one host:port across all its webhooks. Matches <see cref="DeliveryOptions.MaxConnectionsPerServer"/>:
    /// past it the HTTP handler would queue the request inside a shared fan-out slot.
    /// </summary>
    public int MaxInFlightPerHost { get; set; } = 256;

    /// <summary>
    /// How long a fan-out or a retry job waits for its sends before it hands the slow ones to the lane and
    /// moves on; their results are recorded when they come. A black hole then costs a fan-out this long, not the timeout.
    /// </summary>
    public int HandOffAfterMs { get; set; } = 1000;

    public BreakerOptions Breaker { get; set; } = new();

    public RedriveOptions Redrive { get; set; } = new();
}

/// <summary><c>WebhookHub:Delivery:Endpoints:Breaker</c>: when an endpoint's circuit opens and how long it stays open.</summary>
public sealed class BreakerOptions
{
    /// <summary>Retryable failures in a row (network, timeout, 5xx, 408, 429) that open the circuit.</summary>
    public int FailuresToOpen { get; set; } = 5;

    /// <summary>The first cool-down; each failed probe doubles it, up to <see cref="MaxCooldownSeconds"/>.</summary>
    public double FirstCooldownSeconds { get; set; } = 5;

    public double MaxCooldownSeconds { get; set; } = 300;

    /// <summary>
    /// How long a delivery that arrives while the circuit is open waits before its job looks again (plus up
    /// to half of it at random, so a thousand parked deliveries do not all wake at once). A closing circuit
    /// does not wait for them: the redrive sends them.
    /// </summary>
    public double ParkSeconds { get; set; } = 60;
}

/// <summary><c>WebhookHub:Delivery:Endpoints:Redrive</c>: the slow start that redelivers an endpoint's dead letters when its circuit closes.</summary>
public sealed class RedriveOptions
{
    /// <summary>Deliveries a second at the start; doubled each second in which every answer was a 2xx within <see cref="SlowAfterMs"/>.</summary>
    public double InitialPerSecond { get; set; } = 1;

    public double MaxPerSecond { get; set; } = 50;

    /// <summary>An answer slower than this counts against the ramp like an error (the rate halves).</summary>
    public int SlowAfterMs { get; set; } = 2000;
}

/// <summary><c>WebhookHub:Quotas</c>: limits that keep the shared hub fair between customers.</summary>
public sealed class QuotaOptions
{
    /// <summary>Test sends per webhook: one every this many seconds, after a burst of <see cref="TestSendBurst"/>.</summary>
    public double TestSendEverySeconds { get; set; } = 5;

    public int TestSendBurst { get; set; } = 5;

    /// <summary>Webhooks (not deleted) one customer may have; Admins are not capped. 0 means no cap.</summary>
    public int MaxWebhooksPerCustomer { get; set; } = 100;
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

    /// <summary>
    /// The breaker's path to the same end: a circuit that has stayed open this long (every probe failed,
    /// none succeeded) switches the webhook off. 0 turns the rule off.
    /// </summary>
    public double OpenCircuitMinutes { get; set; } = 60;
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

/// <summary>
/// <c>WebhookHub:Sources</c>: how WebhookHub fetches the pages it watches. <c>Delivery:AllowHttp</c> and
/// <c>Delivery:AllowPrivateNetworks</c> govern source URLs as they do webhook URLs.
/// </summary>
public sealed class SourceOptions
{
    /// <summary>A larger body is refused, not truncated: a cut page would read as a change.</summary>
    public int MaxBytes { get; set; } = 5 * 1024 * 1024;

    public int TimeoutSeconds { get; set; } = 20;

    public string UserAgent { get; set; } = "WebhookHub/1.0 (policy change detection; +https://github.com/webhookhub/webhookhub)";

    /// <summary>Least time between two requests to one host from this node, whatever the sources' schedules say.</summary>
    public int MinSecondsPerHost { get; set; } = 5;

    /// <summary>Shortest check interval a source may ask for.</summary>
    public int MinIntervalSeconds { get; set; } = 60;

    /// <summary>Snapshots kept per source (the newest); older ones are deleted after each new one.</summary>
    public int SnapshotsKept { get; set; } = 100;

    /// <summary>Checks kept per source in its history (the newest).</summary>
    public int ChecksKept { get; set; } = 1000;
}
