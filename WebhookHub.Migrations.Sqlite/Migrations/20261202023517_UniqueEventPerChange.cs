using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookHub.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class UniqueEventPerChange : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_events_policy_change_id",
                table: "webhook_events");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_policy_change_id_type",
                table: "webhook_events",
                columns: new[] { "policy_change_id", "type" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_events_policy_change_id_type",
                table: "webhook_events");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_policy_change_id",
                table: "webhook_events",
                column: "policy_change_id");
        }
    }
}
