import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The embedded store as a `Service`: serves its gateway on the mesh address, expires leases
/// and sends watch progress; on graceful shutdown it ends every watch so that the gateway can
/// stop, and closes the store.
public struct EmbeddedStoreService: Service {
    let store: EmbeddedStore
    let gateway: any Service

    public init(
        store: EmbeddedStore, allowWrites: Bool, cluster: String, host: String, port: Int, limits: HTTPServerLimits = .mesh,
        group: EventLoopGroup, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.gateway = StoreGateway.application(
            store: store, allowWrites: allowWrites, cluster: cluster, host: host, port: port, limits: limits, group: group, logger: logger,
            onRunning: onRunning)
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { await cancelWhenGracefulShutdown { await store.run() } }
            tasks.addTask { try await gateway.run() }
            tasks.addTask {
                try? await gracefulShutdown()
                store.close()
            }
        }
    }
}
