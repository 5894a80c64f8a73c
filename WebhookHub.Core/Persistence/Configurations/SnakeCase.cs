using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace WebhookHub.Core.Persistence.Configurations;

/// <summary>Table and column names as DESIGN.md §3 spells them (snake_case), the same on every provider.</summary>
internal static class SnakeCase
{
    public static void ToSnakeCaseTable<T>(this EntityTypeBuilder<T> entity, string table) where T : class
    {
        entity.ToTable(table);
        foreach (var property in entity.Metadata.GetDeclaredProperties())
            property.SetColumnName(Convert(property.Name));
    }

    /// <summary>Stores an enum as its lowercase name (<c>pending</c>, <c>success</c>, …) so the database reads like the API.</summary>
    public static PropertyBuilder<TEnum> HasLowercaseConversion<TEnum>(this PropertyBuilder<TEnum> property)
        where TEnum : struct, Enum =>
        property.HasConversion(v => v.ToString().ToLowerInvariant(), v => Enum.Parse<TEnum>(v, true)).HasMaxLength(16);

    private static string Convert(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
