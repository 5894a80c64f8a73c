using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebhookHub.Web.Realtime;

/// <summary>
/// The deliveries hub and its relay. One node needs nothing more. For several nodes, see
/// docs/architecture.md (Realtime): a SignalR backplane carries hub messages between nodes, and the
/// notifier is the single place where a cross-node bus would plug in for the Blazor pages.
/// </summary>
public static class RealtimeSetup
{
    public static IServiceCollection AddRealtimeSetup(this IServiceCollection services)
    {
        // Enums as camelCase strings, as the HTTP API writes them, so a script reads "success", not 1.
        services.AddSignalR().AddJsonProtocol(json =>
            json.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddHostedService<DeliveryHubRelay>();
        services.AddSingleton<HubConnections>();
        return services;
    }

    public static void MapRealtimeSetup(this IEndpointRouteBuilder app) =>
        app.MapHub<DeliveriesHub>(DeliveriesHub.Path).RequireAuthorization();
}
