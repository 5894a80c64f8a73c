using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Identity;

/// <summary>Issues API keys (shown once) and finds the user behind a presented key by its SHA-256 hash.</summary>
public sealed class ApiKeyService(WebhookHubDbContext db, TimeProvider time)
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

    public Task<bool> ExistsAsync(string secret, CancellationToken ct = default)
    {
        var hash = Hash(secret);
        return db.ApiKeys.AnyAsync(k => k.KeyHash == hash && k.RevokedAt == null, ct);
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

    public Task<List<ApiKey>> ListAsync(string userId, CancellationToken ct = default) =>
        db.ApiKeys.Where(k => k.UserId == userId).OrderByDescending(k => k.CreatedAt).ToListAsync(ct);

    public async Task<bool> RevokeAsync(string userId, Guid id, CancellationToken ct = default)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.UserId == userId, ct);
        if (key is null) return false;
        key.RevokedAt ??= time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return true;
    }

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
