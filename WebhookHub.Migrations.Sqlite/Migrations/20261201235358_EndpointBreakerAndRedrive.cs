using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookHub.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class EndpointBreakerAndRedrive : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "max_per_second",
                table: "webhooks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "redrive_on_recovery",
                table: "webhooks",
                type: "INTEGER",
                nullable: false,
                // Existing webhooks get the default a new one has: redrive on.
                defaultValue: true);

            migrationBuilder.AddColumn<string>(
                name: "budget_trigger",
                table: "deliveries",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                // AttemptTrigger.Scheduled, as the lowercase conversion stores it: existing budgets were not redrives.
                defaultValue: "scheduled");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "max_per_second",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "redrive_on_recovery",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "budget_trigger",
                table: "deliveries");
        }
    }
}
