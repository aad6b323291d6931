import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The embedded store as a `Service`: serves it with etcd's gRPC protocol on the mesh address
/// (`StoreServer`), and etcd's JSON gateway on `gateway` when one is given; expires leases and
/// sends watch progress; on graceful shutdown it ends every watch so that the servers can
/// stop, and closes the store.
public struct EmbeddedStoreService: Service {
    let store: EmbeddedStore
    let server: StoreServer
    let gateway: (any Service)?

    /// - Parameters:
    ///   - gateway: where to serve the JSON gateway (host, port), nil for none.
    ///   - onRunning: called with the gRPC port once it is bound (useful with port 0).
    public init(
        store: EmbeddedStore, identity: StoreIdentity, access: MeshAccess, host: String, port: Int, tls: MeshServerTLS?,
        gateway: (host: String, port: Int)? = nil, limits: HTTPServerLimits = .mesh,
        group: EventLoopGroup, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.server = StoreServer(
            store: store, identity: identity, access: access, host: host, port: port, tls: tls, maxConnections: limits.maxConnections, idleTimeout: limits.idleTimeout,
            logger: logger, onRunning: onRunning)
        self.gateway = gateway.map { gateway in
            StoreGateway.application(
                store: store, allowWrites: access.allowWrites && !access.clientCertificatesRequired, cluster: identity.name,
                host: gateway.host, port: gateway.port, limits: limits, group: group, logger: logger,
                onRunning: { port in logger.info("embedded store JSON gateway serving", metadata: ["mesh-gateway-listen": "\(gateway.host):\(port)"]) })
        }
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { await cancelWhenGracefulShutdown { await store.run() } }
            tasks.addTask { try await server.run() }
            if let gateway { tasks.addTask { try await gateway.run() } }
            tasks.addTask {
                try? await gracefulShutdown()
                store.close()
            }
        }
    }
}
