using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Identity;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> entity)
    {
        entity.Property(k => k.Name).HasMaxLength(200);
        entity.Property(k => k.KeyHash).HasMaxLength(64);
        entity.Property(k => k.Prefix).HasMaxLength(16);
        entity.HasIndex(k => k.KeyHash).IsUnique();
        entity.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId);
        entity.ToSnakeCaseTable("api_keys");
    }
}
