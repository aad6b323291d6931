import Foundation
import Hummingbird
import InterlinkMesh
import Logging
import NIOPosix
import ServiceLifecycle

/// The embedded store served on a free loopback port by this test process, writes allowed,
/// in a temporary data dir.
final class EmbeddedStoreServer: Sendable {
    let clientURL: String
    let store: EmbeddedStore
    let dataDir: URL
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    /// With `tls`, served over https; with its CA, clients need a certificate (`access` says
    /// which CNs may do what; by default the cluster's own name may write).
    init(dataDir: URL? = nil, allowWrites: Bool = true, cluster: String = "test", tls: MeshServerTLS? = nil, access: MeshAccess? = nil) async throws {
        let dataDir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("interlink-store-\(UUID().uuidString)")
        self.dataDir = dataDir
        let store = try EmbeddedStore(directory: dataDir.path)
        self.store = store
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test.store")
        logger.logLevel = .error
        let service = EmbeddedStoreService(
            store: store, identity: StoreIdentity(cluster: cluster),
            access: access ?? MeshAccess(clientCertificatesRequired: tls?.trustedCAFile != nil, ownUser: cluster, allowWrites: allowWrites),
            host: "127.0.0.1", port: 0, tls: tls, group: MultiThreadedEventLoopGroup.singleton, logger: logger
        ) { port in portContinuation.yield(port) }
        let group = ServiceGroup(services: [service], logger: logger)
        self.group = group
        task = Task { try await group.run() }
        var port = 0
        for await found in ports {
            port = found
            break
        }
        clientURL = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)"
    }

    /// Ends the watches, stops serving and removes the data unless `keepData`.
    func stop(keepData: Bool = false) async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        if !keepData { try? FileManager.default.removeItem(at: dataDir) }
    }
}
