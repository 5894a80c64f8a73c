using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Delivery.Endpoints;

/// <summary>The breaker, the lanes, the redrive's pace and the test-send quota, on a fake clock: no sleeping.</summary>
public sealed class EndpointLaneTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly WebhookHubOptions _options = new();
    private readonly DeliveryNotifier _notifier = new(NullLogger<DeliveryNotifier>.Instance);
    private readonly List<CircuitChanged> _changes = [];

    public EndpointLaneTests()
    {
        _options.Delivery.Endpoints.Breaker.FailuresToOpen = 3;
        _options.Delivery.Endpoints.Breaker.FirstCooldownSeconds = 5;
        _options.Delivery.Endpoints.Breaker.MaxCooldownSeconds = 30;
        _notifier.CircuitChanged += _changes.Add;
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private CircuitBreaker Breaker() => new(_notifier, Options.Create(_options), _time);

    private static readonly EndpointSignal Timeout = new EndpointSignal.Failed("Timed out after 30 s");

    private static Webhook Hook(string url = "https://a.example/hook", int? maxPerSecond = null) => new()
    {
        Id = Guid.NewGuid(), UserId = "u", Name = "n", Url = url, Secret = "s", MaxPerSecond = maxPerSecond,
    };

    [Fact]
    public void A_circuit_another_node_opened_is_shown_here_but_never_holds_this_nodes_sends()
    {
        var breaker = Breaker();
        breaker.FollowOtherNodes();
        var id = Guid.NewGuid();
        _notifier.PublishRemote([new CircuitChanged(id, CircuitState.Open, 5, Now.AddSeconds(5), "Timed out", Now)]);

        Assert.Equal(CircuitState.Open, breaker.View(id).State);
        Assert.Equal(Now.AddSeconds(5), breaker.View(id).NextProbeAt);
        Assert.IsType<BreakerVerdict.Pass>(breaker.Admit(id));
        Assert.Empty(breaker.NotClosed()); // nothing for this node's supervisor to probe

        _notifier.PublishRemote([new CircuitChanged(id, CircuitState.Closed, 0, null, null, Now)]);
        Assert.Equal(CircuitState.Closed, breaker.View(id).State);
    }

    [Fact]
    public void Breaker_opens_after_N_failures_in_a_row_and_holds_everything_until_the_cool_down_ends()
    {
        var breaker = Breaker();
        var id = Guid.NewGuid();
        breaker.Record(id, Timeout, probe: false);
        breaker.Record(id, Timeout, probe: false);
        Assert.IsType<BreakerVerdict.Pass>(breaker.Admit(id));
        breaker.Record(id, Timeout, probe: false);

        var hold = Assert.IsType<BreakerVerdict.Hold>(breaker.Admit(id));
        Assert.Equal(Now + TimeSpan.FromSeconds(5), hold.Until);
        Assert.Equal(CircuitState.Open, breaker.View(id).State);
        Assert.Equal(CircuitState.Open, Assert.Single(_changes).State);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.IsType<BreakerVerdict.Hold>(breaker.Admit(id));
    }

    [Fact]
    public void An_answer_between_failures_starts_the_count_again()
    {
        var breaker = Breaker();
        var id = Guid.NewGuid();
        breaker.Record(id, Timeout, probe: false);
        breaker.Record(id, Timeout, probe: false);
        breaker.Record(id, new EndpointSignal.Answered(), probe: false);
        breaker.Record(id, Timeout, probe: false);
        breaker.Record(id, Timeout, probe: false);
        Assert.Equal(CircuitState.Closed, breaker.View(id).State);
    }

    [Fact]
    public void Half_open_lets_one_probe_through_and_a_failed_probe_doubles_the_cool_down_up_to_the_cap()
    {
        var breaker = Breaker();
        var id = Guid.NewGuid();
        for (var i = 0; i < 3; i++) breaker.Record(id, Timeout, probe: false);
        var cooldowns = new List<double>();
        for (var round = 0; round < 4; round++)
        {
            var until = breaker.View(id).NextProbeAt!.Value;
            cooldowns.Add((until - Now).TotalSeconds);
            _time.Advance(until - Now);
            Assert.Equal(new BreakerVerdict.Pass(true), breaker.Admit(id));
            Assert.Equal(CircuitState.HalfOpen, breaker.View(id).State);
            Assert.IsType<BreakerVerdict.Hold>(breaker.Admit(id));
            breaker.Record(id, Timeout, probe: true);
        }
        Assert.Equal([5, 10, 20, 30], cooldowns);
    }

    [Fact]
    public void A_probe_that_answers_closes_the_circuit_and_reports_when_it_broke()
    {
        var breaker = Breaker();
        var id = Guid.NewGuid();
        var brokeAt = Now;
        (Guid, DateTime)? recovered = null;
        breaker.Recovered += (w, at) => recovered = (w, at);
        for (var i = 0; i < 3; i++)
        {
            breaker.Record(id, Timeout, probe: false);
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(new BreakerVerdict.Pass(true), breaker.Admit(id));
        breaker.Record(id, new EndpointSignal.Answered(), probe: true);

        Assert.Equal(CircuitState.Closed, breaker.View(id).State);
        Assert.Equal((id, brokeAt), recovered);
        Assert.Equal([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed], _changes.Select(c => c.State));
    }

    [Fact]
    public void Retry_After_on_a_429_pauses_the_whole_endpoint_at_once_capped_by_MaxRetryAfterSeconds()
    {
        var breaker = Breaker();
        var id = Guid.NewGuid();
        var outcome = new AttemptOutcome.Failed("HTTP 429", 429, null, 3, true, TimeSpan.FromSeconds(20));
        breaker.Record(id, EndpointSignal.From(outcome, Now), probe: false);
        Assert.Equal(Now + TimeSpan.FromSeconds(20), Assert.IsType<BreakerVerdict.Hold>(breaker.Admit(id)).Until);

        _options.Delivery.MaxRetryAfterSeconds = 60;
        var other = Guid.NewGuid();
        breaker.Record(other, EndpointSignal.From(outcome with { RetryAfter = TimeSpan.FromHours(2) }, Now), probe: false);
        Assert.Equal(Now + TimeSpan.FromSeconds(60), breaker.View(other).NextProbeAt);
    }

    [Fact]
    public void Final_4xx_answers_are_not_failures_of_the_endpoint_and_policy_refusals_say_nothing()
    {
        Assert.IsType<EndpointSignal.Answered>(EndpointSignal.From(new AttemptOutcome.Failed("HTTP 404", 404, null, 1, false), Now));
        Assert.IsType<EndpointSignal.Nothing>(EndpointSignal.From(new AttemptOutcome.Failed("Refused", null, null, 1, false), Now));
        Assert.IsType<EndpointSignal.Failed>(EndpointSignal.From(new AttemptOutcome.Failed("HTTP 503", 503, null, 1, true), Now));
        Assert.IsType<EndpointSignal.Nothing>(EndpointSignal.From(null, Now));
    }

    [Fact]
    public void A_lane_takes_at_most_its_in_flight_limit_and_frees_a_slot_when_an_attempt_leaves()
    {
        _options.Delivery.Endpoints.MaxInFlightPerEndpoint = 2;
        var lanes = new EndpointLanes(Breaker(), Options.Create(_options), _time);
        var slow = Hook();
        var healthy = Hook("https://b.example/hook");
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        Assert.IsType<Admission.Go>(lanes.TryEnter(slow, a));
        Assert.IsType<Admission.Go>(lanes.TryEnter(slow, b));
        var wait = Assert.IsType<Admission.Wait>(lanes.TryEnter(slow, c));
        Assert.True(wait.Until > Now);
        Assert.IsType<Admission.Go>(lanes.TryEnter(healthy, Guid.NewGuid()));
        Assert.True(lanes.IsInFlight(a));

        lanes.Leave(a, new AttemptOutcome.Succeeded(200, null, 5));
        Assert.False(lanes.IsInFlight(a));
        Assert.IsType<Admission.Go>(lanes.TryEnter(slow, c));
        Assert.IsType<Admission.Wait>(lanes.TryEnter(slow, c));
    }

    [Fact]
    public async Task A_fan_out_send_to_a_full_lane_waits_in_memory_and_goes_when_a_slot_frees()
    {
        _options.Delivery.Endpoints.MaxInFlightPerEndpoint = 1;
        var lanes = new EndpointLanes(Breaker(), Options.Create(_options), _time);
        var hook = Hook();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.IsType<Admission.Go>(await lanes.EnterAsync(hook, first, CancellationToken.None));

        var waiting = lanes.EnterAsync(hook, second, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.True(lanes.IsInFlight(second), "a waiting delivery counts as in flight, so the owed sweep leaves it alone");
        lanes.Leave(first, new AttemptOutcome.Succeeded(200, null, 3));
        Assert.IsType<Admission.Go>(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void The_host_limit_counts_every_webhook_on_one_host_and_port()
    {
        _options.Delivery.Endpoints.MaxInFlightPerHost = 2;
        var lanes = new EndpointLanes(Breaker(), Options.Create(_options), _time);
        Assert.IsType<Admission.Go>(lanes.TryEnter(Hook("https://h.example/a"), Guid.NewGuid()));
        Assert.IsType<Admission.Go>(lanes.TryEnter(Hook("https://h.example/b"), Guid.NewGuid()));
        Assert.IsType<Admission.Wait>(lanes.TryEnter(Hook("https://h.example/c"), Guid.NewGuid()));
        Assert.IsType<Admission.Go>(lanes.TryEnter(Hook("https://h.example:8443/c"), Guid.NewGuid()));
    }

    [Fact]
    public void MaxPerSecond_spaces_what_it_holds_back_one_interval_apart()
    {
        var lanes = new EndpointLanes(Breaker(), Options.Create(_options), _time);
        var hook = Hook(maxPerSecond: 2);
        var admitted = 0;
        var waits = new List<DateTime>();
        for (var i = 0; i < 6; i++)
        {
            var id = Guid.NewGuid();
            switch (lanes.TryEnter(hook, id))
            {
                case Admission.Go: admitted++; lanes.Leave(id, new AttemptOutcome.Succeeded(200, null, 1)); break;
                case Admission.Wait w: waits.Add(w.Until); break;
            }
        }
        Assert.Equal(2, admitted);
        Assert.Equal([0.5, 1.0, 1.5, 2.0], waits.Select(w => (w - Now).TotalSeconds));
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.IsType<Admission.Go>(lanes.TryEnter(hook, Guid.NewGuid()));
    }

    [Fact]
    public void An_open_circuit_parks_deliveries_well_past_the_probe_time_but_says_when_they_may_go()
    {
        var breaker = Breaker();
        var lanes = new EndpointLanes(breaker, Options.Create(_options), _time);
        var hook = Hook();
        for (var i = 0; i < 3; i++) breaker.Record(hook.Id, Timeout, probe: false);
        var wait = Assert.IsType<Admission.Wait>(lanes.TryEnter(hook, Guid.NewGuid()));
        Assert.Equal(Now + TimeSpan.FromSeconds(5), wait.Until);
        Assert.InRange((wait.LookAgainAt - Now).TotalSeconds, 60, 90);
    }

    [Fact]
    public void Test_sends_skip_the_breaker_and_their_answer_closes_it()
    {
        var breaker = Breaker();
        var lanes = new EndpointLanes(breaker, Options.Create(_options), _time);
        var hook = Hook();
        for (var i = 0; i < 3; i++) breaker.Record(hook.Id, Timeout, probe: false);
        var test = Guid.NewGuid();
        Assert.IsType<Admission.Go>(lanes.TryEnter(hook, test, LaneUse.Test));
        lanes.Leave(test, new AttemptOutcome.Succeeded(200, null, 3));
        Assert.Equal(CircuitState.Closed, breaker.View(hook.Id).State);
    }

    [Fact]
    public void Slow_start_doubles_while_answers_are_good_and_halves_on_trouble_never_below_the_start()
    {
        var pace = new SlowStart(1, 16, TimeSpan.FromSeconds(2));
        var rates = new List<double>();
        for (var second = 0; second < 6; second++)
        {
            for (var i = 0; i < pace.Batch; i++) pace.Observe(AttemptStatus.Success, 20);
            rates.Add(pace.EndSecond());
        }
        Assert.Equal([2, 4, 8, 16, 16, 16], rates);

        pace.Observe(AttemptStatus.Success, 20);
        pace.Observe(AttemptStatus.Retrying, 20);
        Assert.Equal(8, pace.EndSecond());
        pace.Observe(AttemptStatus.Success, 2500);
        Assert.Equal(4, pace.EndSecond());
        for (var i = 0; i < 5; i++) { pace.Observe(AttemptStatus.Failed, 1); pace.EndSecond(); }
        Assert.Equal(1, pace.PerSecond);
        Assert.Equal(1, pace.Batch);
    }

    [Fact]
    public void Test_sends_allow_a_burst_of_five_then_one_every_five_seconds()
    {
        var quota = new TestSendQuota(Options.Create(_options), _time);
        var hook = Guid.NewGuid();
        for (var i = 0; i < 5; i++) Assert.Null(quota.TryTake(hook));
        Assert.Equal(TimeSpan.FromSeconds(5), quota.TryTake(hook));
        Assert.Null(quota.TryTake(Guid.NewGuid()));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.InRange(quota.TryTake(hook)!.Value.TotalMilliseconds, 999, 1001);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(quota.TryTake(hook));
        Assert.NotNull(quota.TryTake(hook));
    }
}
