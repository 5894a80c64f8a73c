using System.Collections;
using System.Diagnostics;
using System.Text.Json;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// The one way an integration test waits: look at a state every 50 ms until it is the expected one, or
/// fail after the timeout saying what was awaited and what was seen last. Waits end on a state, never on
/// a fixed time, so a slow (loaded) machine makes a test slower, not red; the timeout only bounds how
/// long a broken app is given, so it is generous (30 s unless said).
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Until <paramref name="condition"/> holds; <paramref name="state"/> describes what was seen, for the failure.</summary>
    public static async Task Async(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? state = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!await condition())
        {
            if (clock.Elapsed > limit) Fail(what, limit, state?.Invoke());
            await Task.Delay(Interval);
        }
    }

    /// <summary>Until <paramref name="condition"/> holds (a synchronous check: a receiver's requests, a hub listener's events, a SQL count).</summary>
    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? state = null) =>
        Async(() => Task.FromResult(condition()), what, timeout, state);

    /// <summary>Until <paramref name="probe"/> yields something (not null), and returns it.</summary>
    public static async Task<T> Value<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null) where T : class
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (true)
        {
            if (await probe() is { } value) return value;
            if (clock.Elapsed > limit) Fail(what, limit, "nothing yet");
            await Task.Delay(Interval);
        }
    }

    /// <summary>
    /// Until what <paramref name="observe"/> returns satisfies <paramref name="until"/>, and returns that observation;
    /// the last one is in the failure (as <paramref name="describe"/> puts it, or as JSON / a list / ToString()).
    /// </summary>
    public static async Task<T> Matches<T>(Func<Task<T>> observe, Func<T, bool> until, string what, TimeSpan? timeout = null,
        Func<T, string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (true)
        {
            var seen = await observe();
            if (until(seen)) return seen;
            if (clock.Elapsed > limit) Fail(what, limit, describe is null ? Describe(seen) : describe(seen));
            await Task.Delay(Interval);
        }
    }

    /// <summary>A plain exception, not an xunit assertion: the benchmark links this file (through <see cref="AppProcess"/>) and has no xunit.</summary>
    private static void Fail(string what, TimeSpan limit, string? state) =>
        throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.#} s waiting for: {what}" + (state is null ? "" : $"\nLast seen: {state}"));

    private static string Describe(object? seen) => seen switch
    {
        null => "null",
        string text => text,
        JsonElement json => json.GetRawText(),
        IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Select(Describe))}]",
        _ => seen.ToString() ?? "",
    };
}
