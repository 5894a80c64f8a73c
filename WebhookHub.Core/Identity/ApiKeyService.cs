using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Identity;

/// <summary>Issues API keys (shown once) and finds the user behind a presented key by its SHA-256 hash.</summary>
public sealed class ApiKeyService(WebhookHubDbContext db, AccessNotifier access, TimeProvider time)
{
    private const string KeyPrefix = "whk_";

    public async Task<(ApiKey Key, string Secret)> CreateAsync(string userId, string name, CancellationToken ct = default)
    {
        var secret = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = await AddAsync(userId, name, secret, ct);
        return (key, secret);
    }

    /// <summary>Stores a key whose value the caller chose (the bootstrap key from configuration).</summary>
    public async Task<ApiKey> AddAsync(string userId, string name, string secret, CancellationToken ct = default)
    {
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Name = name,
            KeyHash = Hash(secret),
            Prefix = secret[..Math.Min(10, secret.Length)],
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return key;
    }

    /// <summary>Whether a key with this value was ever stored, revoked or not: a revoked value must never come back.</summary>
    public Task<bool> ExistsAsync(string secret, CancellationToken ct = default)
    {
        var hash = Hash(secret);
        return db.ApiKeys.AnyAsync(k => k.KeyHash == hash, ct);
    }

    /// <summary>The active key with this value, with its user; records when it was last used (at most once a minute).</summary>
    public async Task<ApiKey?> FindActiveAsync(string secret, CancellationToken ct = default)
    {
        var hash = Hash(secret);
        var key = await db.ApiKeys.Include(k => k.User)
            .FirstOrDefaultAsync(k => k.KeyHash == hash && k.RevokedAt == null, ct);
        if (key is null) return null;

        var now = time.GetUtcNow().UtcDateTime;
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            key.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return key;
    }

    /// <param name="userId">Whose keys; null for everyone's (admins), with their users.</param>
    public Task<List<ApiKey>> ListAsync(string? userId, CancellationToken ct = default) =>
        db.ApiKeys.Include(k => k.User).Where(k => userId == null || k.UserId == userId)
            .OrderByDescending(k => k.CreatedAt).ToListAsync(ct);

    /// <param name="ownerId">The caller's own id, or null when an admin revokes anyone's key.</param>
    /// <remarks>Open hub connections made with the key are closed at once (see <see cref="AccessNotifier"/>).</remarks>
    public async Task<bool> RevokeAsync(string? ownerId, Guid id, CancellationToken ct = default)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && (ownerId == null || k.UserId == ownerId), ct);
        if (key is null) return false;
        key.RevokedAt ??= time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        access.OnApiKeyRevoked(key.Id);
        return true;
    }

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
