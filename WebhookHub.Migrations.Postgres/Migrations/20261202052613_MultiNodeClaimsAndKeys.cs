using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace WebhookHub.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class MultiNodeClaimsAndKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "fan_out_lease_until",
                table: "policy_changes",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "fan_out_owner",
                table: "policy_changes",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_policy_changes_claimable",
                table: "policy_changes",
                column: "created_at",
                filter: "fanned_out_at IS NULL OR fan_out_lease_until IS NOT NULL");

            // Workers claim a stored change as soon as it is committed, whichever node stored it (PostgresFanoutClaims).
            migrationBuilder.Sql("""
                CREATE FUNCTION webhookhub_notify_fanout() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('webhookhub_fanout', '');
                    RETURN NULL;
                END $$;
                CREATE TRIGGER policy_changes_notify_fanout AFTER INSERT ON policy_changes
                    FOR EACH STATEMENT EXECUTE FUNCTION webhookhub_notify_fanout();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER policy_changes_notify_fanout ON policy_changes;
                DROP FUNCTION webhookhub_notify_fanout();
                """);

            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropIndex(
                name: "ix_policy_changes_claimable",
                table: "policy_changes");

            migrationBuilder.DropColumn(
                name: "fan_out_lease_until",
                table: "policy_changes");

            migrationBuilder.DropColumn(
                name: "fan_out_owner",
                table: "policy_changes");
        }
    }
}
