using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace WebhookHub.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AspNetRoles",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    NormalizedName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUsers",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DisabledAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    MustChangePassword = table.Column<bool>(type: "boolean", nullable: false),
                    UserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    NormalizedUserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Email = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    NormalizedEmail = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    EmailConfirmed = table.Column<bool>(type: "boolean", nullable: false),
                    PasswordHash = table.Column<string>(type: "text", nullable: true),
                    SecurityStamp = table.Column<string>(type: "text", nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "text", nullable: true),
                    PhoneNumber = table.Column<string>(type: "text", nullable: true),
                    PhoneNumberConfirmed = table.Column<bool>(type: "boolean", nullable: false),
                    TwoFactorEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    LockoutEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LockoutEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    AccessFailedCount = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "idempotency_keys",
                columns: table => new
                {
                    user_id = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: false),
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    policy_change_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idempotency_keys", x => new { x.user_id, x.key });
                });

            migrationBuilder.CreateTable(
                name: "policy_changes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    route = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    source = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    detected_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    diff = table.Column<string>(type: "text", nullable: false),
                    summary = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    fanned_out_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policy_changes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_events",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    payload = table.Column<string>(type: "text", nullable: false),
                    policy_change_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_rollups",
                columns: table => new
                {
                    webhook_id = table.Column<Guid>(type: "uuid", nullable: false),
                    span_minutes = table.Column<int>(type: "integer", nullable: false),
                    start = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    succeeded = table.Column<int>(type: "integer", nullable: false),
                    retrying = table.Column<int>(type: "integer", nullable: false),
                    failed = table.Column<int>(type: "integer", nullable: false),
                    duration_sum_ms = table.Column<long>(type: "bigint", nullable: false),
                    latency00 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency01 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency02 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency03 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency04 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency05 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency06 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency07 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency08 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency09 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency10 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency11 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency12 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency13 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency14 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency15 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency16 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency17 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency18 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency19 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency20 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency21 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency22 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency23 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency24 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency25 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency26 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency27 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency28 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency29 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency30 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency31 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency32 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency33 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency34 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency35 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency36 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency37 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency38 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency39 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency40 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency41 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency42 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency43 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency44 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency45 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency46 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency47 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency48 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency49 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency50 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency51 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency52 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency53 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency54 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency55 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency56 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency57 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency58 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency59 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    latency60 = table.Column<int>(type: "integer", nullable: false, defaultValue: 0)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_rollups", x => new { x.webhook_id, x.span_minutes, x.start });
                });

            migrationBuilder.CreateTable(
                name: "webhooks",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    secret = table.Column<string>(type: "text", nullable: false),
                    previous_secret = table.Column<string>(type: "text", nullable: true),
                    previous_secret_expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    events = table.Column<List<string>>(type: "text[]", nullable: false),
                    routes = table.Column<List<string>>(type: "text[]", nullable: false),
                    disabled_reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    max_per_second = table.Column<int>(type: "integer", nullable: true),
                    redrive_on_recovery = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhooks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoleClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RoleId = table.Column<string>(type: "text", nullable: false),
                    ClaimType = table.Column<string>(type: "text", nullable: true),
                    ClaimValue = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoleClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetRoleClaims_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    key_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    last_used_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.id);
                    table.ForeignKey(
                        name: "FK_api_keys_AspNetUsers_user_id",
                        column: x => x.user_id,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    ClaimType = table.Column<string>(type: "text", nullable: true),
                    ClaimValue = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetUserClaims_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserLogins",
                columns: table => new
                {
                    LoginProvider = table.Column<string>(type: "text", nullable: false),
                    ProviderKey = table.Column<string>(type: "text", nullable: false),
                    ProviderDisplayName = table.Column<string>(type: "text", nullable: true),
                    UserId = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserLogins", x => new { x.LoginProvider, x.ProviderKey });
                    table.ForeignKey(
                        name: "FK_AspNetUserLogins_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserRoles",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "text", nullable: false),
                    RoleId = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserRoles", x => new { x.UserId, x.RoleId });
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserTokens",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "text", nullable: false),
                    LoginProvider = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Value = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserTokens", x => new { x.UserId, x.LoginProvider, x.Name });
                    table.ForeignKey(
                        name: "FK_AspNetUserTokens_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    webhook_id = table.Column<Guid>(type: "uuid", nullable: false),
                    event_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    event_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    policy_change_id = table.Column<Guid>(type: "uuid", nullable: true),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    attempt_count = table.Column<int>(type: "integer", nullable: false),
                    budget_starts_after_attempt = table.Column<int>(type: "integer", nullable: false),
                    budget_trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    next_attempt_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_attempt_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_status_code = table.Column<int>(type: "integer", nullable: true),
                    last_error = table.Column<string>(type: "text", nullable: true),
                    hangfire_job_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "FK_deliveries_webhook_events_event_id",
                        column: x => x.event_id,
                        principalTable: "webhook_events",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_deliveries_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    delivery_id = table.Column<Guid>(type: "uuid", nullable: false),
                    webhook_id = table.Column<Guid>(type: "uuid", nullable: false),
                    event_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    policy_change_id = table.Column<Guid>(type: "uuid", nullable: true),
                    event_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    response_body = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    attempt_number = table.Column<int>(type: "integer", nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    delivered_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    error_message = table.Column<string>(type: "text", nullable: true),
                    duration_ms = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    hangfire_job_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_deliveries_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_key_hash",
                table: "api_keys",
                column: "key_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_user_id",
                table: "api_keys",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetRoleClaims_RoleId",
                table: "AspNetRoleClaims",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "RoleNameIndex",
                table: "AspNetRoles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserClaims_UserId",
                table: "AspNetUserClaims",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserLogins_UserId",
                table: "AspNetUserLogins",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserRoles_RoleId",
                table: "AspNetUserRoles",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "EmailIndex",
                table: "AspNetUsers",
                column: "NormalizedEmail");

            migrationBuilder.CreateIndex(
                name: "UserNameIndex",
                table: "AspNetUsers",
                column: "NormalizedUserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_event_id_webhook_id",
                table: "deliveries",
                columns: new[] { "event_id", "webhook_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_status_next_attempt_at",
                table: "deliveries",
                columns: new[] { "status", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_webhook_id_status",
                table: "deliveries",
                columns: new[] { "webhook_id", "status" });

            migrationBuilder.CreateIndex(
                name: "IX_idempotency_keys_created_at",
                table: "idempotency_keys",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_policy_changes_created_at",
                table: "policy_changes",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_policy_changes_fanned_out_at",
                table: "policy_changes",
                column: "fanned_out_at");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_created_at_id",
                table: "webhook_deliveries",
                columns: new[] { "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_delivery_id",
                table: "webhook_deliveries",
                column: "delivery_id");

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
                name: "IX_webhook_events_created_at",
                table: "webhook_events",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_policy_change_id_type",
                table: "webhook_events",
                columns: new[] { "policy_change_id", "type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_webhook_rollups_span_minutes_start",
                table: "webhook_rollups",
                columns: new[] { "span_minutes", "start" });

            migrationBuilder.CreateIndex(
                name: "IX_webhooks_user_id",
                table: "webhooks",
                column: "user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "AspNetRoleClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserLogins");

            migrationBuilder.DropTable(
                name: "AspNetUserRoles");

            migrationBuilder.DropTable(
                name: "AspNetUserTokens");

            migrationBuilder.DropTable(
                name: "idempotency_keys");

            migrationBuilder.DropTable(
                name: "policy_changes");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhook_rollups");

            migrationBuilder.DropTable(
                name: "AspNetRoles");

            migrationBuilder.DropTable(
                name: "AspNetUsers");

            migrationBuilder.DropTable(
                name: "deliveries");

            migrationBuilder.DropTable(
                name: "webhook_events");

            migrationBuilder.DropTable(
                name: "webhooks");
        }
    }
}
