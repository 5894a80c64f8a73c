using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// On PostgreSQL the Data Protection key ring is the <c>data_protection_keys</c> table, shared by every node:
/// any node decrypts the webhook secrets and honours the sign-in cookies another one made. Prepared once at
/// start, one node at a time (<see cref="StartupLock"/>), before anything protects or unprotects:
/// <list type="bullet">
/// <item>key files a hub kept under its data directory before the keys moved to the database are copied in,
/// so the secrets they encrypted still decrypt;</item>
/// <item>the key ring is loaded, which creates the first key when there is none. Taking turns, nodes
/// starting at once on an empty table make one key, not one each: a node keeps the key ring it loaded for
/// up to 24 h and, after its first 2 minutes, does not look for a key it has not seen (Data Protection's
/// <c>KeyRingProvider</c>), so a second key made by another node at the same moment could leave its
/// secrets unreadable here for a day.</item>
/// </list>
/// Later keys need nothing from us: Data Protection makes the next key 2 to 3 days before the current one
/// expires, activated at that expiry, and every node's daily refresh reads it before then.
/// </summary>
public static class SharedKeyRing
{
    /// <summary>Call under <see cref="StartupLock"/>.</summary>
    public static async Task PrepareAsync(WebhookHubDbContext db, IDataProtectionProvider dataProtection, string keyDirectory,
        ILogger logger, CancellationToken ct)
    {
        await ImportKeyFilesAsync(db, keyDirectory, logger, ct);
        // Loads the key ring, which creates the first key if the table has none.
        dataProtection.CreateProtector("WebhookHub.KeyRing").Protect([]);
    }

    /// <summary>
    /// Each <c>*.xml</c> under <paramref name="keyDirectory"/> (keys and revocations, as Data Protection wrote them,
    /// encrypted to the certificate if one was set) that the table does not have yet, under the name the EF
    /// repository gives it: the file name without its extension. The files stay where they are.
    /// </summary>
    private static async Task ImportKeyFilesAsync(WebhookHubDbContext db, string keyDirectory, ILogger logger, CancellationToken ct)
    {
        if (!Directory.Exists(keyDirectory)) return;
        var files = Directory.GetFiles(keyDirectory, "*.xml");
        if (files.Length == 0) return;
        var present = (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(ct)).ToHashSet();
        var missing = files.Where(f => !present.Contains(Path.GetFileNameWithoutExtension(f))).ToList();
        foreach (var file in missing)
            db.DataProtectionKeys.Add(new DataProtectionKey
            {
                FriendlyName = Path.GetFileNameWithoutExtension(file),
                Xml = XElement.Load(file).ToString(SaveOptions.DisableFormatting),
            });
        if (missing.Count == 0) return;
        await db.SaveChangesAsync(ct);
        logger.LogWarning("Copied {Count} Data Protection key file(s) from {KeyDirectory} into the database (data_protection_keys), " +
            "where every node reads them; the files are no longer used", missing.Count, keyDirectory);
    }
}
