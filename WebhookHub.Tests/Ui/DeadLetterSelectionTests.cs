using WebhookHub.Web.Features.DeadLetters;

namespace WebhookHub.Tests.Ui;

public sealed class DeadLetterSelectionTests
{
    private static readonly Guid A = Guid.NewGuid(), B = Guid.NewGuid(), C = Guid.NewGuid();

    [Fact]
    public void Retry_selected_is_possible_only_with_a_tick()
    {
        var selection = new DeadLetterSelection();
        selection.Listed([A, B]);
        Assert.False(selection.CanRetrySelected);
        selection.Toggle(A, true);
        Assert.True(selection.CanRetrySelected);
        Assert.Equal([A], selection.Selected);
        selection.Toggle(A, false);
        Assert.False(selection.CanRetrySelected);
    }

    [Fact]
    public void A_row_that_is_not_listed_cannot_be_ticked_and_ticks_leave_with_their_rows()
    {
        var selection = new DeadLetterSelection();
        selection.Listed([A, B]);
        selection.Toggle(C, true);
        Assert.Empty(selection.Selected);
        selection.ToggleAll(true);
        Assert.True(selection.AllListedSelected);
        selection.Listed([B, C]); // A went (retried elsewhere, or another page)
        Assert.Equal([B], selection.Selected);
        Assert.False(selection.AllListedSelected);
    }

    [Fact]
    public void Retry_all_needs_a_webhook_filter_and_something_listed()
    {
        var selection = new DeadLetterSelection();
        selection.Listed([A]);
        Assert.False(selection.CanRetryAllForWebhook);
        selection.WebhookFilter = Guid.NewGuid();
        Assert.True(selection.CanRetryAllForWebhook);
        selection.Listed([]);
        Assert.False(selection.CanRetryAllForWebhook);
    }

    [Fact]
    public void Each_retry_records_its_outcome_and_unticks_what_was_asked()
    {
        var selection = new DeadLetterSelection();
        selection.Listed([A, B, C]);
        selection.ToggleAll(true);
        var (queued, skipped) = selection.Retried([A, B], [A]);
        Assert.Equal((1, 1), (queued, skipped));
        Assert.Equal(RetryOutcome.Queued, selection.OutcomeOf(A));
        Assert.Equal(RetryOutcome.Skipped, selection.OutcomeOf(B));
        Assert.Null(selection.OutcomeOf(C));
        Assert.Equal([C], selection.Selected);
    }
}
