using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebhookHub.Core.Signing;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// Two nodes (real processes) on one PostgreSQL database, each with its own data directory, so nothing can
/// pass between them through key files: what one encrypts (a webhook secret, a sign-in cookie, a sign-in
/// form's antiforgery token) the other decrypts, because the Data Protection keys are in the database.
/// </summary>
public sealed partial class SharedKeysTests(SharedKeysTests.TwoNodes nodes, ITestOutputHelper output) : IClassFixture<SharedKeysTests.TwoNodes>
{
    private const string Reason = "several nodes share one PostgreSQL database";

    /// <summary>Node A and node B, started at the same moment on an empty database, as a cluster's first start would.</summary>
    public sealed class TwoNodes : IAsyncLifetime
    {
        public const string AdminEmail = "admin@nodes.test";
        public const string AdminPassword = "Nodes-admin-pass-1";

        private readonly string _root = Path.Combine(Path.GetTempPath(), "webhookhub-nodes", Guid.NewGuid().ToString("n"));

        public string DataA => Path.Combine(_root, "a");
        public string DataB => Path.Combine(_root, "b");
        public AppProcess A { get; private set; } = null!;
        public AppProcess B { get; private set; } = null!;
        public TestReceiver Receiver { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            if (!TestDatabase.IsPostgres) return; // every test here is skipped on SQLite
            Receiver = await TestReceiver.StartAsync();
            // A's database for both: B is pointed at it by A's connection string, and keeps its own (empty) data directory.
            var shared = TestDatabase.PrepareProcess(DataA, new Dictionary<string, string>
            {
                ["WebhookHub__Bootstrap__AdminEmail"] = AdminEmail,
                ["WebhookHub__Bootstrap__AdminPassword"] = AdminPassword,
            });
            var starting = new[] { ("node-a", DataA), ("node-b", DataB) }
                .Select(node => AppProcess.StartAsync(node.Item2, new Dictionary<string, string>(shared) { ["WebhookHub__NodeId"] = node.Item1 }))
                .ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                // Whichever started is stopped at dispose, even if the other did not.
                A = starting[0].IsCompletedSuccessfully ? starting[0].Result : null!;
                B = starting[1].IsCompletedSuccessfully ? starting[1].Result : null!;
            }
        }

        public async Task DisposeAsync()
        {
            if (A is not null) await A.DisposeAsync();
            if (B is not null) await B.DisposeAsync();
            if (Receiver is not null) await Receiver.DisposeAsync();
            if (!TestDatabase.IsPostgres) return;
            await TestDatabase.DropAsync(DataA);
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
        }
    }

    [PostgresOnlyFact(Reason)]
    public void Nodes_starting_at_once_on_an_empty_database_make_one_key_in_it_and_none_on_disk()
    {
        // One key, not one per node: a node that never saw the other's key could not read what it protects (see SharedKeyRing).
        Assert.Equal(1, Scalar("SELECT count(*) FROM data_protection_keys"));
        Assert.Equal(1, Scalar("SELECT count(*) FROM \"AspNetUsers\""));
        Assert.False(Directory.Exists(Path.Combine(nodes.DataA, "keys")), "node A wrote key files");
        Assert.False(Directory.Exists(Path.Combine(nodes.DataB, "keys")), "node B wrote key files");
    }

    [PostgresOnlyFact(Reason)]
    public async Task A_secret_one_node_encrypted_signs_on_the_other_both_ways()
    {
        using var apiA = nodes.A.ApiClient();
        using var apiB = nodes.B.ApiClient();
        var url = nodes.Receiver.Url("/secret-" + Guid.NewGuid().ToString("n")[..8]);
        var created = await apiA.PostAsJsonAsync("/api/webhooks", new { name = "two nodes", url });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var webhook = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = webhook.GetProperty("id").GetGuid();

        // Encrypted by A, decrypted by B to sign B's test send.
        await AssertTestSendSignedAsync(apiB, id, url, webhook.GetProperty("secret").GetString()!);

        // Rotated (encrypted) by B, signed by A. The previous secret keeps signing for its overlap, so the new one is checked alone.
        var rotated = await apiB.PostAsync($"/api/webhooks/{id}/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newSecret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        await AssertTestSendSignedAsync(apiA, id, url, newSecret);
    }

    [PostgresOnlyFact(Reason)]
    public async Task A_sign_in_form_from_one_node_posts_to_the_other_and_its_cookie_is_honoured_by_both()
    {
        // The form (and its antiforgery cookie) from B, the sign-in on A: a load balancer without sticky sessions.
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });
        var form = await browser.GetStringAsync(new Uri(nodes.B.BaseAddress, "/account/login"));
        using var post = new HttpRequestMessage(HttpMethod.Post, new Uri(nodes.A.BaseAddress, "/account/login"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(Token().Match(form).Groups[1].Value),
                ["Input.Email"] = TwoNodes.AdminEmail,
                ["Input.Password"] = TwoNodes.AdminPassword,
            }),
        };
        var signedIn = await browser.SendAsync(post);
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect,
            $"Sign-in on A with B's form answered {(int)signedIn.StatusCode}:\n{Tail(await signedIn.Content.ReadAsStringAsync())}");

        // Outside Development the sign-in cookie is Secure, so a cookie container keeps it off plain http: sent by hand.
        var cookie = string.Join("; ", signedIn.Headers.GetValues("Set-Cookie")
            .Where(c => c.StartsWith(".AspNetCore.Identity.Application", StringComparison.Ordinal))
            .Select(c => c[..c.IndexOf(';')]));
        Assert.NotEmpty(cookie);
        using var plain = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        foreach (var node in new[] { nodes.A, nodes.B })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await plain.GetAsync(new Uri(node.BaseAddress, "/api/webhooks"))).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseAddress, "/api/webhooks"));
            request.Headers.Add("Cookie", cookie);
            var answer = await plain.SendAsync(request);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{node.BaseAddress} answered {(int)answer.StatusCode} to A's cookie");
        }
    }

    private async Task AssertTestSendSignedAsync(HttpClient api, Guid webhookId, string url, string secret)
    {
        var before = nodes.Receiver.RequestsTo(new Uri(url).AbsolutePath).Count();
        var sent = await api.PostAsync($"/api/webhooks/{webhookId}/test", null);
        var body = await sent.Content.ReadAsStringAsync();
        Assert.True(sent.StatusCode == HttpStatusCode.OK, $"{api.BaseAddress} test send answered {(int)sent.StatusCode}: {body}");
        Assert.Equal("success", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());

        var request = nodes.Receiver.RequestsTo(new Uri(url).AbsolutePath).Skip(before).Single();
        var verifier = new WebhookVerifier(secret);
        Assert.True(verifier.VerifyStandard(request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Header("webhook-signature"), request.Body),
            $"{api.BaseAddress} signed with another secret: {request.Header("webhook-signature")}");
        output.WriteLine($"{api.BaseAddress}: test send signed with the secret the other node encrypted.");
    }

    private long Scalar(string sql) => Reliability.Hub.Scalar(nodes.DataA, sql);

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
