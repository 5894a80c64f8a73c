using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Signing;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Delivery;

/// <summary>The pipeline end to end with the real retry schedule (1, 2, 4, 8, 16 s) and real receivers on 127.0.0.1.</summary>
public sealed class DeliveryPipelineTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private WebhookHubApp App => fixture.App;

    private static async Task<TestReceiver> ReceiverAsync() => await TestReceiver.StartAsync();

    [Fact]
    public void The_default_schedule_is_five_retries_of_1_2_4_8_16_seconds()
    {
        var delivery = App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.WebhookHubOptions>>().Value.Delivery;
        Assert.Equal([1, 2, 4, 8, 16], delivery.RetrySchedule);
        Assert.Equal(6, App.Services.GetRequiredService<RetryPolicy>().AttemptsPerBudget);
    }

    [Fact]
    public async Task Delivered_body_and_both_signatures_verify()
    {
        await using var receiver = await ReceiverAsync();
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        var changeId = await ReportChangeAsync(admin, hook.Route, diff: "--- a\n+++ b\n-fee £100\n+fee £120\n");

        var request = (await receiver.WaitForCountAsync(1))[0];
        var body = request.Body;
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("policy_change.detected", root.GetProperty("type").GetString());
        Assert.Equal(changeId, root.GetProperty("data").GetProperty("policyChangeId").GetGuid());
        Assert.Equal("--- a\n+++ b\n-fee £100\n+fee £120\n", root.GetProperty("data").GetProperty("diff").GetString());

        Assert.Equal("application/json", request.Header("content-type"));
        Assert.StartsWith("WebhookHub/", request.Header("user-agent"));
        Assert.Equal("policy_change.detected", request.Header("x-webhook-event"));
        Assert.Equal("1", request.Header("x-webhook-attempt"));
        var eventId = root.GetProperty("id").GetString()!;
        Assert.Equal(eventId, request.Header("webhook-id"));
        var delivery = Assert.Single(await DeliveriesAsync(App, hook.Id));
        Assert.Equal(delivery.Id.ToString(), request.Header("x-webhook-delivery"));

        // The library verifier a .NET receiver would use …
        var verifier = new WebhookVerifier(hook.Secret);
        Assert.True(verifier.VerifyStandard(request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Header("webhook-signature"), body));
        Assert.True(verifier.VerifyGitHub(request.Header("x-webhook-signature"), body));

        // … and the two specs recomputed by hand, independent of our signer.
        var key = Convert.FromBase64String(hook.Secret["whsec_".Length..]);
        var signedContent = Encoding.UTF8.GetBytes($"{eventId}.{request.Header("webhook-timestamp")}.").Concat(body).ToArray();
        Assert.Equal("v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signedContent)), request.Header("webhook-signature"));
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(hook.Secret), body)),
            request.Header("x-webhook-signature"));
        var timestamp = long.Parse(request.Header("webhook-timestamp"));
        Assert.InRange(timestamp, request.At.ToUnixTimeSeconds() - 5, request.At.ToUnixTimeSeconds() + 1);

        await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Success }], "delivery recorded as success");
        var attempt = Assert.Single(await AttemptsAsync(App, hook.Id));
        Assert.Equal(AttemptStatus.Success, attempt.Status);
        Assert.Equal(200, attempt.StatusCode);
        Assert.Equal(AttemptTrigger.Scheduled, attempt.Trigger);
    }

    [Fact]
    public async Task Retries_503_503_then_200_at_least_1_s_and_2_s_apart_with_one_event_id()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((n, _) => n <= 2 ? Results.StatusCode(503) : Results.Ok());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        var requests = await receiver.WaitForCountAsync(3, TimeSpan.FromSeconds(20));
        // Never before the schedule (it is a minimum), and at most 3 s late: Hangfire's polling and a loaded
        // machine add a second or two, a lost wake-up in the job store's lock adds 90 s (issue 11).
        // Measured at the receiver, whose own clock readings jitter by a few ms on a loaded machine: the
        // lower bounds catch a retry started early (Hangfire's whole-second schedule is up to 0.5 s early).
        Assert.InRange((requests[1].At - requests[0].At).TotalSeconds, 0.95, 4.0);
        Assert.InRange((requests[2].At - requests[1].At).TotalSeconds, 1.95, 5.0);
        Assert.Single(requests.Select(r => r.Header("webhook-id")).Distinct());
        Assert.Single(requests.Select(r => r.Header("x-webhook-delivery")).Distinct());
        Assert.Single(requests.Select(r => r.BodyText).Distinct());
        Assert.Equal(["1", "2", "3"], requests.Select(r => r.Header("x-webhook-attempt")));

        var delivery = Assert.Single(await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Success }], "delivery ends in success"));
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal([AttemptStatus.Retrying, AttemptStatus.Retrying, AttemptStatus.Success], attempts.Select(a => a.Status));
        Assert.Equal([503, 503, 200], attempts.Select(a => a.StatusCode ?? 0));
        // Both retries ran in the delivery's one retry job.
        Assert.Equal(delivery.HangfireJobId, Assert.Single(attempts.Skip(1).Select(a => a.HangfireJobId).Distinct()));
        // That job has ended (Succeeded is final): nothing is left that could send a fourth request.
        await WaitForHangfireStateAsync(App, delivery.HangfireJobId!, "Succeeded");
        Assert.Equal(3, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_404_is_not_retried_and_is_dead_lettered_with_its_hangfire_job_failed()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((_, _) => Results.NotFound());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        await receiver.WaitForCountAsync(1);
        var delivery = Assert.Single(await WaitForDeliveriesAsync(App, hook.Id,
            d => d is [{ Status: DeliveryStatus.Failed, HangfireJobId: not null }], "delivery dead-lettered"));
        Assert.Equal(1, delivery.AttemptCount);
        Assert.Equal(404, delivery.LastStatusCode);
        Assert.Equal("Failed", HangfireState(App, delivery.HangfireJobId!));

        var deadLetters = await admin.GetFromJsonAsync<JsonElement>($"/api/dead-letters?webhookId={hook.Id}");
        var listed = Assert.Single(deadLetters.EnumerateArray());
        Assert.Equal(delivery.Id, listed.GetProperty("deliveryId").GetGuid());

        // No retry follows: the delivery's only job is in Hangfire's Failed state, which nothing runs until a
        // person requeues it (a retry would have left it Scheduled), so the one request is all there will be.
        Assert.Single(receiver.Requests);
        Assert.Equal(AttemptStatus.Failed, Assert.Single(await AttemptsAsync(App, hook.Id)).Status);
    }

    [Fact]
    public async Task A_redirect_is_neither_followed_nor_retried()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((_, r) => r.Path == "/hook" ? Results.Redirect(receiver.Url("/elsewhere")) : Results.Ok());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        var delivery = Assert.Single(await WaitForDeliveriesAsync(App, hook.Id,
            d => d is [{ Status: DeliveryStatus.Failed, HangfireJobId: not null }], "delivery failed at once"));
        // Dead-lettered, its job Failed: no retry is scheduled, and a followed redirect would have been part of the attempt.
        Assert.Equal("Failed", HangfireState(App, delivery.HangfireJobId!));
        Assert.Single(receiver.Requests);
        Assert.Empty(receiver.RequestsTo("/elsewhere"));
        var attempt = Assert.Single(await AttemptsAsync(App, hook.Id));
        Assert.Equal(302, attempt.StatusCode);
        Assert.Contains("not followed", attempt.ErrorMessage);
    }

    [Fact]
    public async Task A_429_with_retry_after_waits_as_asked()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((n, _) => n == 1 ? new WithHeader(Results.StatusCode(429), "Retry-After", "2") : Results.Ok());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        var requests = await receiver.WaitForCountAsync(2, TimeSpan.FromSeconds(15));
        // The schedule alone would retry after 1 s; Retry-After asked for 2, a minimum. Up to 3 s late, as for the schedule.
        Assert.InRange((requests[1].At - requests[0].At).TotalSeconds, 1.95, 5.0);
        await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Success }], "delivered after the wait");
    }

    [Fact]
    public async Task Manual_retry_from_the_dead_letter_queue_delivers_with_a_fresh_budget_as_manual()
    {
        await using var receiver = await ReceiverAsync();
        var healthy = false;
        receiver.Respond((_, _) => Volatile.Read(ref healthy) ? Results.Ok() : Results.NotFound());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);
        await ReportChangeAsync(admin, hook.Route);
        var before = (await WaitForDeliveriesAsync(App, hook.Id,
            d => d is { Count: 2 } && d.All(x => x.Status == DeliveryStatus.Failed && x.HangfireJobId != null), "both deliveries dead-lettered"))
            .OrderBy(d => d.CreatedAt).ToList();
        Volatile.Write(ref healthy, true);

        // One by id …
        var one = await admin.PostAsync($"/api/dead-letters/{before[0].Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
        // … and the rest of the webhook's dead letters in bulk.
        var bulk = await admin.PostAsJsonAsync("/api/dead-letters/retry", new { webhookId = hook.Id });
        Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        var retried = (await bulk.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("retried");
        Assert.Equal(before[1].Id, Assert.Single(retried.EnumerateArray()).GetGuid());

        await receiver.WaitForCountAsync(4);
        var after = await WaitForDeliveriesAsync(App, hook.Id, d => d.All(x => x.Status == DeliveryStatus.Success), "both delivered after the retry");
        foreach (var delivery in after)
        {
            Assert.Equal(2, delivery.AttemptCount);
            Assert.Equal(1, delivery.BudgetStartsAfterAttempt);
            // The failed Hangfire job itself was requeued: one job per delivery, its history at /hangfire.
            Assert.Equal(before.Single(b => b.Id == delivery.Id).HangfireJobId, delivery.HangfireJobId);
            // The row is saved before the job returns; Hangfire marks it Succeeded just after.
            await WaitForHangfireStateAsync(App, delivery.HangfireJobId!, "Succeeded");
        }
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal(2, attempts.Count(a => a.Trigger == AttemptTrigger.Manual && a.Status == AttemptStatus.Success && a.AttemptNumber == 2));
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>($"/api/dead-letters?webhookId={hook.Id}")).EnumerateArray());

        // Nothing left to retry: 404, not a second run.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/dead-letters/{before[0].Id}/retry", null)).StatusCode);
    }

    [Fact]
    public async Task Route_and_event_filters_decide_who_receives_a_change()
    {
        await using var receiver = await ReceiverAsync();
        var route = "route-" + Guid.NewGuid().ToString("n")[..8];
        var follower = await CreateAsync(App, receiver.Url("/follower"), route);
        var otherRoute = await CreateAsync(App, receiver.Url("/other-route"));
        var everyRoute = await CreateAsync(App, receiver.Url("/every-route"), routes: []);
        var noEvents = await CreateAsync(App, receiver.Url("/no-events"), route, events: []);
        var inactive = await CreateAsync(App, receiver.Url("/inactive"), route);
        await QueryAsync(App, async db =>
        {
            var w = await db.Webhooks.FindAsync(inactive.Id);
            w!.IsActive = false;
            return await db.SaveChangesAsync();
        });

        using var admin = App.ApiClient();
        var changeId = await ReportChangeAsync(admin, route.ToUpperInvariant());
        bool Got(IReadOnlyList<ReceivedRequest> r, string path) =>
            r.Any(x => x.Path == path && x.BodyText.Contains(changeId.ToString()));
        await receiver.WaitForAsync(r => Got(r, "/follower") && Got(r, "/every-route"));
        // The fan-out is over (its deliveries and FannedOutAt are saved in one transaction): a webhook without a
        // delivery now never gets one for this change, so nothing more can arrive for the others.
        await Eventually.Matches(() => admin.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{changeId}"),
            c => c.GetProperty("fannedOutAt").ValueKind != JsonValueKind.Null, "the change fanned out");
        var all = receiver.Requests;
        Assert.False(Got(all, "/other-route"));
        Assert.False(Got(all, "/no-events"));
        Assert.False(Got(all, "/inactive"));
        Assert.Empty(await DeliveriesAsync(App, otherRoute.Id));
        Assert.Empty(await DeliveriesAsync(App, noEvents.Id));
        Assert.Empty(await DeliveriesAsync(App, inactive.Id));
        Assert.NotEmpty(await DeliveriesAsync(App, everyRoute.Id));
    }

    [Fact]
    public async Task History_and_exports_list_the_attempts_without_secrets()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((n, _) => n == 1 ? Results.StatusCode(500) : Results.Text("thanks"));
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);
        await WaitForAttemptsAsync(App, hook.Id, a => a.Count == 2, "two attempts recorded");

        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries?page=1&pageSize=10");
        Assert.Equal(2, page.GetProperty("total").GetInt32());
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([2, 1], items.Select(i => i.GetProperty("attemptNumber").GetInt32()));
        Assert.Equal(["success", "retrying"], items.Select(i => i.GetProperty("status").GetString()));
        Assert.Equal("thanks", items[0].GetProperty("responseBody").GetString());

        var retrying = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries?status=retrying");
        Assert.Equal(500, Assert.Single(retrying.GetProperty("items").EnumerateArray()).GetProperty("statusCode").GetInt32());
        var future = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries?from={DateTime.UtcNow.AddHours(1):O}");
        Assert.Equal(0, future.GetProperty("total").GetInt32());

        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries?pageSize=0", "pageSize");
        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries?pageSize=501", "pageSize");
        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries?page=0", "page");
        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries?status=lost", "status");
        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries/export?format=xml", "format");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/webhooks/{Guid.NewGuid()}/deliveries")).StatusCode);

        var csvResponse = await admin.GetAsync($"/api/webhooks/{hook.Id}/deliveries/export?format=csv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var csv = await csvResponse.Content.ReadAsStringAsync();
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("AttemptNumber", lines[0]);
        Assert.Contains("success", lines[1]);
        Assert.Contains("500", lines[2]);
        Assert.DoesNotContain(hook.Secret, csv);
        Assert.DoesNotContain("whsec_", csv);

        var json = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries/export?format=json&status=success");
        Assert.Equal(200, Assert.Single(json.EnumerateArray()).GetProperty("statusCode").GetInt32());

        // By cursor: the first page hands out nextCursor, the last page none.
        var first = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries?pageSize=1");
        Assert.False(first.GetProperty("totalIsLowerBound").GetBoolean());
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}/deliveries?pageSize=1&cursor={cursor}");
        Assert.Equal(1, Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("attemptNumber").GetInt32());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        await AssertProblemNames(admin, $"/api/webhooks/{hook.Id}/deliveries?cursor=bogus", "cursor");

        // Every webhook's history in one file, for admins and operators.
        var all = await admin.GetAsync($"/api/deliveries/export?format=json&status=retrying&from={DateTime.UtcNow.AddMinutes(-5):O}");
        Assert.Contains("deliveries.json", all.Content.Headers.ContentDisposition?.FileName);
        Assert.Contains((await all.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray(), a => a.GetProperty("webhookId").GetGuid() == hook.Id);
    }

    [Fact]
    public async Task Test_button_answers_with_the_first_attempts_result()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((n, _) => n == 1 ? Results.Ok() : Results.StatusCode(503));
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();

        var ok = await (await admin.PostAsync($"/api/webhooks/{hook.Id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(200, ok.GetProperty("statusCode").GetInt32());
        Assert.Equal("success", ok.GetProperty("status").GetString());
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("webhook.test", request.Header("x-webhook-event"));
        Assert.Equal(ok.GetProperty("deliveryId").GetString(), request.Header("x-webhook-delivery"));
        Assert.True(new WebhookVerifier(hook.Secret).VerifyStandard(request.Header("webhook-id"), request.Header("webhook-timestamp"),
            request.Header("webhook-signature"), request.Body));

        var failing = await (await admin.PostAsync($"/api/webhooks/{hook.Id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(503, failing.GetProperty("statusCode").GetInt32());
        // A test is never retried (issue 15): the person who pressed it has the answer, and may press again.
        Assert.Equal("failed", failing.GetProperty("status").GetString());
        await Task.Delay(1500);
        Assert.Equal(2, receiver.Requests.Count);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/webhooks/{Guid.NewGuid()}/test", null)).StatusCode);
    }

    [Fact]
    public async Task Customers_only_see_and_retry_their_own_deliveries()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((_, _) => Results.NotFound());
        using var admin = App.ApiClient();
        var (ownerId, ownerKey) = await CreateCustomerAsync(admin);
        var (_, strangerKey) = await CreateCustomerAsync(admin);
        var hook = await CreateAsync(App, receiver.Url(), userId: ownerId);
        await ReportChangeAsync(admin, hook.Route);
        var deliveryId = (await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Failed }], "dead letter"))[0].Id;

        using var owner = App.ApiClient(ownerKey);
        using var stranger = App.ApiClient(strangerKey);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/webhooks/{hook.Id}/deliveries")).StatusCode);
        Assert.Single((await owner.GetFromJsonAsync<JsonElement>("/api/dead-letters")).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/webhooks/{hook.Id}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/webhooks/{hook.Id}/deliveries/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.GetAsync("/api/deliveries/export")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/webhooks/{hook.Id}/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/dead-letters/{deliveryId}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync("/api/dead-letters/retry", new { webhookId = hook.Id })).StatusCode);
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/dead-letters")).EnumerateArray());
        var summary = await stranger.GetFromJsonAsync<JsonElement>("/api/monitoring/summary?window=15m");
        Assert.Empty(summary.GetProperty("webhooks").EnumerateArray());
        // Customers cannot report policy changes.
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.PostAsJsonAsync("/api/policy-changes", new { route = "r", source = "s", diff = "d" })).StatusCode);
        Assert.Equal(DeliveryStatus.Failed, (await DeliveriesAsync(App, hook.Id))[0].Status);
    }

    [Fact]
    public async Task Monitoring_summary_reports_rate_latency_counts_and_last_failure()
    {
        await using var receiver = await ReceiverAsync();
        receiver.Respond((n, _) => n == 1 ? Results.StatusCode(400) : Results.Ok());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);
        await WaitForAttemptsAsync(App, hook.Id, a => a.Count == 1, "first attempt");
        await ReportChangeAsync(admin, hook.Route);
        await WaitForAttemptsAsync(App, hook.Id, a => a.Count == 2, "second attempt");

        var summary = await admin.GetFromJsonAsync<JsonElement>("/api/monitoring/summary?window=15m");
        var mine = summary.GetProperty("webhooks").EnumerateArray().Single(w => w.GetProperty("webhookId").GetGuid() == hook.Id);
        Assert.Equal(0.5, mine.GetProperty("successRate").GetDouble());
        Assert.Equal(1, mine.GetProperty("countsByStatus").GetProperty("failed").GetInt32());
        Assert.Equal(1, mine.GetProperty("countsByStatus").GetProperty("success").GetInt32());
        Assert.True(mine.GetProperty("p95Ms").GetInt64() >= 0);
        // From the rollups, a failure is known by its minute; the history has its answer.
        var lastFailure = mine.GetProperty("lastFailure").GetProperty("at").GetDateTime();
        Assert.Equal(0, lastFailure.Second);
        Assert.InRange(lastFailure, DateTime.UtcNow.AddMinutes(-3), DateTime.UtcNow);
        // The rollups were written by the pipeline with the attempt rows, and agree with them.
        var rollups = await QueryAsync(App, db => db.Rollups.Where(r => r.WebhookId == hook.Id && r.SpanMinutes == Rollup.Minute).ToListAsync());
        Assert.Equal((1, 1, 0), (rollups.Sum(r => r.Succeeded), rollups.Sum(r => r.Failed), rollups.Sum(r => r.Retrying)));
        Assert.Equal((await AttemptsAsync(App, hook.Id)).Sum(a => a.DurationMs), rollups.Sum(r => r.DurationSumMs));
        await AssertProblemNames(admin, "/api/monitoring/summary?window=2d", "window");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/monitoring/summary?window=30d")).StatusCode);
    }

    [Fact]
    public async Task Policy_changes_are_validated_and_a_large_diff_is_cut_with_a_url_to_the_whole()
    {
        using var admin = App.ApiClient();
        var bad = await admin.PostAsJsonAsync("/api/policy-changes", new { source = "s", diff = "" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("route", out _), errors.GetRawText());
        Assert.True(errors.TryGetProperty("diff", out _), errors.GetRawText());

        await using var receiver = await ReceiverAsync();
        var hook = await CreateAsync(App, receiver.Url());
        var diff = string.Concat(Enumerable.Range(0, 10_000).Select(i => $"+line {i}\n"));
        var changeId = await ReportChangeAsync(admin, hook.Route, diff);
        var data = JsonDocument.Parse((await receiver.WaitForCountAsync(1))[0].Body).RootElement.GetProperty("data");
        Assert.True(data.GetProperty("diff").GetString()!.Length <= 64 * 1024);
        var diffUrl = data.GetProperty("diffUrl").GetString()!;
        Assert.EndsWith($"/api/policy-changes/{changeId}", diffUrl);

        var full = await admin.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{changeId}");
        Assert.Equal(diff, full.GetProperty("diff").GetString());
        Assert.NotEqual(JsonValueKind.Null, full.GetProperty("fannedOutAt").ValueKind);
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/policy-changes?pageSize=1");
        Assert.Equal(changeId, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        await AssertProblemNames(admin, "/api/policy-changes?pageSize=1000", "pageSize");
    }

    [Fact]
    public async Task Running_a_fan_out_again_creates_and_sends_nothing_twice()
    {
        await using var receiver = await ReceiverAsync();
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        var changeId = await ReportChangeAsync(admin, hook.Route);
        await receiver.WaitForCountAsync(1);
        await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Success }], "delivered");

        // FanOut awaits the attempts it makes: once it returns, whatever it would send has been sent.
        using (var scope = App.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<FanOut>().RunAsync(changeId, null, CancellationToken.None);

        Assert.Single(receiver.Requests);
        Assert.Single(await DeliveriesAsync(App, hook.Id));
        Assert.Single(await AttemptsAsync(App, hook.Id));
    }

    private static async Task AssertProblemNames(HttpClient client, string url, string field)
    {
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"{url}: {errors.GetRawText()}");
    }
}

/// <summary>An answer with one extra header, e.g. <c>Retry-After</c>.</summary>
internal sealed class WithHeader(IResult inner, string name, string value) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        context.Response.Headers[name] = value;
        return inner.ExecuteAsync(context);
    }
}
