namespace WebhookHub.Web.Features.DeadLetters;

/// <summary>What a retry from the dead-letter page came to, per delivery.</summary>
public enum RetryOutcome
{
    /// <summary>Requeued with a fresh budget; the next list shows where it got to.</summary>
    Queued,
    /// <summary>Not retried: it was no longer failed (already retried, or its webhook was deleted).</summary>
    Skipped,
}

/// <summary>
/// The dead-letter page's selection: which failed deliveries are ticked, what "retry selected" and
/// "retry all for a webhook" may do, and each retry's outcome. Plain state, so it is tested without a browser.
/// </summary>
public sealed class DeadLetterSelection
{
    private readonly HashSet<Guid> _selected = [];
    private readonly Dictionary<Guid, RetryOutcome> _outcomes = [];
    private HashSet<Guid> _listed = [];

    public IReadOnlyCollection<Guid> Selected => _selected;
    public IReadOnlyDictionary<Guid, RetryOutcome> Outcomes => _outcomes;

    /// <summary>The webhook the list is filtered to; "retry all" needs one, so one click never retries every customer's failures.</summary>
    public Guid? WebhookFilter { get; set; }

    public bool CanRetrySelected => _selected.Count > 0;
    public bool CanRetryAllForWebhook => WebhookFilter is not null && _listed.Count > 0;
    public bool AllListedSelected => _listed.Count > 0 && _listed.All(_selected.Contains);

    /// <summary>The list changed (reload, filter, page): ticks on rows no longer shown go, so a retry only touches what the user sees.</summary>
    public void Listed(IEnumerable<Guid> deliveryIds)
    {
        _listed = [.. deliveryIds];
        _selected.IntersectWith(_listed);
    }

    public bool IsSelected(Guid deliveryId) => _selected.Contains(deliveryId);

    public void Toggle(Guid deliveryId, bool selected)
    {
        if (selected && _listed.Contains(deliveryId)) _selected.Add(deliveryId);
        else _selected.Remove(deliveryId);
    }

    public void ToggleAll(bool selected)
    {
        if (selected) _selected.UnionWith(_listed);
        else _selected.Clear();
    }

    /// <summary>Records what the retry service answered for the ids it was asked about, and unticks them.</summary>
    public (int Queued, int Skipped) Retried(IReadOnlyCollection<Guid> asked, IReadOnlyCollection<Guid> retried)
    {
        foreach (var id in asked)
        {
            _outcomes[id] = retried.Contains(id) ? RetryOutcome.Queued : RetryOutcome.Skipped;
            _selected.Remove(id);
        }
        return (asked.Count(retried.Contains), asked.Count(id => !retried.Contains(id)));
    }

    public RetryOutcome? OutcomeOf(Guid deliveryId) => _outcomes.TryGetValue(deliveryId, out var o) ? o : null;
}
