using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookHub.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class RollupsAndHistoryIndexes : Migration
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
                name: "webhook_rollups",
                columns: table => new
                {
                    webhook_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    span_minutes = table.Column<int>(type: "INTEGER", nullable: false),
                    start = table.Column<DateTime>(type: "TEXT", nullable: false),
                    succeeded = table.Column<int>(type: "INTEGER", nullable: false),
                    retrying = table.Column<int>(type: "INTEGER", nullable: false),
                    failed = table.Column<int>(type: "INTEGER", nullable: false),
                    duration_sum_ms = table.Column<long>(type: "INTEGER", nullable: false),
                    latency00 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency01 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency02 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency03 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency04 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency05 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency06 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency07 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency08 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency09 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency10 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency11 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency12 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency13 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency14 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency15 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency16 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency17 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency18 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency19 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency20 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency21 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency22 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency23 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency24 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency25 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency26 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency27 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency28 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency29 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency30 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency31 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency32 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency33 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency34 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency35 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency36 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency37 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency38 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency39 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency40 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency41 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency42 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency43 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency44 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency45 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency46 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency47 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency48 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency49 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency50 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency51 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency52 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency53 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency54 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency55 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency56 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency57 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency58 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency59 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    latency60 = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_rollups", x => new { x.webhook_id, x.span_minutes, x.start });
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
                name: "IX_webhook_rollups_span_minutes_start",
                table: "webhook_rollups",
                columns: new[] { "span_minutes", "start" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "webhook_rollups");

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
