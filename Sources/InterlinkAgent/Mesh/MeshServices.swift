import Foundation
import InterlinkCore
import InterlinkMesh
import Logging
import ServiceLifecycle

/// Keeps this cluster's export in its kvstore up to date: a full sync at start (retried while
/// the store is unreachable), one after every local health change, and a lease renewal every
/// TTL/3.
struct MeshExport: Service {
    let exporter: ServiceExporter
    let reconciler: Reconciler
    let changes: AsyncStream<Void>
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask {
                    await syncUntilDone()
                    for await _ in changes { await syncUntilDone() }
                }
                tasks.addTask {
                    let period = exporter.leaseTTL / 3
                    while (try? await Task.sleep(for: period)) != nil {
                        do { try await exporter.renew() } catch {
                            logger.warning("export lease renewal failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    private func syncUntilDone() async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await exporter.sync(await reconciler.exportedServices())
                return
            } catch {
                logger.warning("export to the kvstore failed; retrying", metadata: ["error": "\(error)", "retry-in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

/// Follows every configured remote cluster and feeds what it exports to the reconciler.
struct RemoteClusters: Service {
    let configs: [RemoteClusterConfig]
    let localCluster: ClusterName
    let localID: ClusterID
    let cacheTTL: Duration?
    let reconciler: Reconciler
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                for config in configs {
                    tasks.addTask { await follow(config) }
                }
            }
        }
    }

    /// Learns the remote's ID from its cluster config, then watches it.
    private func follow(_ config: RemoteClusterConfig) async {
        let store = EtcdClient(endpoints: config.endpoints, requestTimeout: .seconds(2))
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                let id = try await RemoteClusterConfigReader.clusterID(of: config.name, in: store)
                guard id != localID else {
                    throw RemoteClusterError("cluster \(config.name) has ID \(id), the ID of this cluster (\(localCluster)): IDs must be unique in the mesh")
                }
                let watcher = RemoteClusterWatcher(cluster: config.name, clusterID: id, store: store, cacheTTL: cacheTTL, logger: logger) { cache in
                    await reconciler.updateRemote(cache)
                }
                logger.info("connected to remote cluster", metadata: ["cluster": "\(config.name)", "cluster-id": "\(id)"])
                await watcher.run()
                return
            } catch {
                logger.warning("remote cluster not ready; retrying", metadata: ["cluster": "\(config.name)", "error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}

enum RemoteClusterConfigReader {
    static func clusterID(of cluster: ClusterName, in store: EtcdClient) async throws -> ClusterID {
        guard let value = try await store.range(KVStoreKeys.clusterConfig(cluster: cluster)).kvs.first?.value else {
            throw RemoteClusterError("cluster \(cluster) has not written \(KVStoreKeys.clusterConfig(cluster: cluster)) yet")
        }
        let config = try JSONDecoder().decode(ClusterConfig.self, from: Data(value))
        return try ClusterID(config.id)
    }
}
