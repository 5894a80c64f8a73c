using Microsoft.AspNetCore.Http.HttpResults;

namespace WebhookHub.Web.Api;

public static class Paging
{
    public const int MaxPageSize = 500;

    /// <summary>A 400 naming <c>page</c> or <c>pageSize</c> when out of range, else null.</summary>
    public static ValidationProblem? Validate(int page, int pageSize)
    {
        var errors = new FieldErrors();
        if (page < 1) errors.Add("page", "page must be 1 or more.");
        else if ((long)(page - 1) * Math.Max(pageSize, 1) > int.MaxValue) errors.Add("page", "page is beyond the last row.");
        if (pageSize is < 1 or > MaxPageSize) errors.Add("pageSize", $"pageSize must be between 1 and {MaxPageSize}.");
        return errors.Any ? errors.ToProblem() : null;
    }
}

/// <summary>One page of a list, newest first, with the total count for the pager.</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);
