using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace WebhookHub.Web.Api;

/// <summary>
/// Turns a body the framework could not read (malformed JSON, a wrong type, an oversized body) into a
/// problem detail that names the field, instead of a bare 400 or a 500.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException bad) return false;

        var field = bad.InnerException is JsonException json ? FieldFromPath(json.Path) : "body";
        var message = bad.InnerException is JsonException inner
            ? $"The JSON body is invalid at '{inner.Path ?? "$"}': {FirstSentence(inner.Message)}"
            : bad.Message;

        context.Response.StatusCode = bad.StatusCode;
        var problem = bad.StatusCode == StatusCodes.Status400BadRequest
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
            : new ProblemDetails { Detail = message };
        problem.Status = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    /// <summary><c>$.events[2]</c> → <c>events</c>; <c>$</c> or none → <c>body</c>.</summary>
    private static string FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "body";
        var name = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        var end = name.IndexOfAny(['.', '[']);
        return end > 0 ? name[..end] : name;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
