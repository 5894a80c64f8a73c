using Microsoft.AspNetCore.Http.HttpResults;

namespace WebhookHub.Web.Api;

/// <summary>Collects per-field messages and becomes an RFC 9457 validation problem (400) naming each field.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public FieldErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    public void Require(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(field, $"{field} is required.");
        else if (value.Length > maxLength) Add(field, $"{field} must be at most {maxLength} characters.");
    }

    public ValidationProblem ToProblem() =>
        TypedResults.ValidationProblem(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));

    public static ValidationProblem Single(string field, string message) => new FieldErrors().Add(field, message).ToProblem();
}
