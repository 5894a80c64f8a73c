using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookHub.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class MinuteRollupsAndHistoryIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_created_at",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_webhook_id_created_at",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_webhook_id_status_created_at",
                table: "webhook_deliveries");

            migrationBuilder.CreateTable(
                name: "webhook_minute_rollups",
                columns: table => new
                {
                    webhook_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    minute = table.Column<DateTime>(type: "TEXT", nullable: false),
                    succeeded = table.Column<int>(type: "INTEGER", nullable: false),
                    retrying = table.Column<int>(type: "INTEGER", nullable: false),
                    failed = table.Column<int>(type: "INTEGER", nullable: false),
                    duration_sum_ms = table.Column<long>(type: "INTEGER", nullable: false),
                    latency00 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency01 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency02 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency03 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency04 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency05 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency06 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency07 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency08 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency09 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency10 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency11 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency12 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency13 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency14 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency15 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency16 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency17 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency18 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency19 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency20 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency21 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency22 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency23 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency24 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency25 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency26 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency27 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency28 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency29 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency30 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency31 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency32 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency33 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency34 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency35 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency36 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency37 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency38 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency39 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency40 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency41 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency42 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency43 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency44 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency45 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency46 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency47 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency48 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency49 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency50 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency51 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency52 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency53 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency54 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency55 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency56 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency57 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency58 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency59 = table.Column<int>(type: "INTEGER", nullable: false),
                    latency60 = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_minute_rollups", x => new { x.webhook_id, x.minute });
                });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_created_at_id",
                table: "webhook_deliveries",
                columns: new[] { "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_status_created_at_id",
                table: "webhook_deliveries",
                columns: new[] { "status", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_webhook_id_created_at_id",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_webhook_id_status_created_at_id",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "status", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_minute_rollups_minute",
                table: "webhook_minute_rollups",
                column: "minute");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "webhook_minute_rollups");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_created_at_id",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_status_created_at_id",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_webhook_id_created_at_id",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_webhook_id_status_created_at_id",
                table: "webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_created_at",
                table: "webhook_deliveries",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_webhook_id_created_at",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_webhook_id_status_created_at",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "status", "created_at" });
        }
    }
}
