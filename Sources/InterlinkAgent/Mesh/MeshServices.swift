import Foundation
import InterlinkCore
import InterlinkMesh
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps this cluster's export in its kvstore up to date: it follows the writer's states and
/// syncs what the state exports whenever that changes (retried while the store is
/// unreachable), renews the export lease every TTL/3 and writes `cilium/.heartbeat` every
/// `heartbeatInterval`.
struct MeshExport: Service {
    let exporter: ServiceExporter
    let writer: RoutingWriter
    let logger: Logger
    /// The outcome of the last write to this cluster's store, for `/v1/clusters`.
    let health: NIOLockedValueBox<StoreHealth>
    var heartbeatInterval: Duration = .seconds(60)
    var clock: Timeline = Timeline()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask {
                    var synced: Exported?
                    var seen: UInt64?
                    for await state in writer.snapshots() {
                        // Remote clusters' updates (most states in a sync burst) export nothing new.
                        guard state.hasLocalChanges(since: seen) else { continue }
                        seen = state.revision
                        let exported = Exported(services: state.exportedServices(), exports: state.exportedServiceExports())
                        guard exported != synced else { continue }
                        if await syncUntilDone(exported) { synced = exported }
                    }
                }
                tasks.addTask {
                    while (try? await clock.sleep(for: heartbeatInterval)) != nil {
                        do { try await exporter.heartbeat() } catch {
                            logger.warning("heartbeat write failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
                tasks.addTask {
                    let period = exporter.leaseTTL / 3
                    while (try? await clock.sleep(for: period)) != nil {
                        do {
                            try await exporter.renew()
                            recordHealth(nil)
                        } catch {
                            recordHealth(error)
                            logger.warning("export lease renewal failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    /// A successful write makes the store healthy; a failure keeps the last success's time.
    private func recordHealth(_ error: Error?) {
        health.withLockedValue { health in
            if let error { health.lastError = "\(error)" } else { health = StoreHealth(lastExport: Date(), lastError: nil) }
        }
    }

    /// What is written to the store: the global shared services and the MCS-API exports.
    struct Exported: Equatable {
        var services: [ClusterService]
        var exports: [MCSAPIServiceSpec]
    }

    /// Writes `exported` until the store takes it; false when cancelled first.
    private func syncUntilDone(_ exported: Exported) async -> Bool {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await exporter.sync(exported.services, exports: exported.exports)
                recordHealth(nil)
                return true
            } catch {
                recordHealth(error)
                logger.warning("export to the kvstore failed; retrying", metadata: ["error": "\(error)", "retry-in": "\(delay)"])
                try? await clock.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return false
    }
}

/// Whether this cluster's own store took the last export.
struct StoreHealth: Sendable {
    var lastExport: Date?
    var lastError: String?
}

/// Follows the remote clusters of the `--clustermesh-config` folder as it changes: a new file
/// connects, a changed one reconnects (the new connection resyncs; backends stay meanwhile), a
/// removed one disconnects and drains that cluster's backends. A file that does not parse is
/// reported in the status and, if it was valid before, the previous content stays in use.
///
/// Each remote cluster is followed by its own task, cancelled when its file goes.
struct RemoteClusters: Service {
    let directory: String
    let localCluster: ClusterName
    let localID: ClusterID
    var maxConnectedClusters: MaxConnectedClusters = .standard
    let cacheTTL: Duration?
    let writer: RoutingWriter
    let roster: MeshRoster
    let logger: Logger
    var pollInterval: Duration = .milliseconds(250)

    private struct Followed {
        var text: String
        /// The certificate, key and CA files the content names, and their stamp when connecting.
        var referenced: [String] = []
        var stamp = ""
        var task: Task<Void, Never>

        func isCurrent(_ file: ClusterMeshDirectory.File) -> Bool {
            text == file.text && ClusterMeshDirectory.stamp(of: referenced) == stamp
        }
    }

    /// An invalid file as last reported: parsed again when it changes, or every few seconds
    /// (a certificate it names may appear), and logged again only when the problem changes.
    private struct Rejected {
        var text: String
        var problem: String
        var at: ContinuousClock.Instant
    }
    static let rejectedRetry: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown { await followDirectory() }
    }

    private func followDirectory() async {
        var followed: [String: Followed] = [:]
        var rejected: [String: Rejected] = [:]
        var lastScanError: String?
        while !Task.isCancelled {
            do {
                let files = try ClusterMeshDirectory.scan(directory)
                lastScanError = nil
                await apply(files, to: &followed, rejected: &rejected)
            } catch {
                if lastScanError != error.description { logger.error("cannot read the cluster mesh folder", metadata: ["error": "\(error)"]) }
                lastScanError = error.description
            }
            try? await Task.sleep(for: pollInterval)
        }
        for entry in followed.values { entry.task.cancel() }
        for entry in followed.values { await entry.task.value }
    }

    private func apply(_ files: [ClusterMeshDirectory.File], to followed: inout [String: Followed], rejected: inout [String: Rejected]) async {
        let present = Set(files.map(\.name))
        for file in rejected.keys where !present.contains(file) {
            rejected[file] = nil
            if followed[file] == nil { await roster.remove(file) }
        }
        for (file, entry) in followed where !present.contains(file) {
            entry.task.cancel()
            await entry.task.value
            followed[file] = nil
            if let name = try? ClusterName(file) { writer.removeRemote(name) }
            await roster.remove(file)
            logger.info("disconnected from remote cluster; its backends are drained", metadata: ["cluster": "\(file)"])
        }
        let now = ContinuousClock.now
        for file in files where !(followed[file.name]?.isCurrent(file) ?? false) {
            if let last = rejected[file.name], last.text == file.text, now - last.at < Self.rejectedRetry { continue }
            let config: RemoteClusterConfig
            switch file.config {
            case .failure(let error):
                let kept = followed[file.name] != nil ? " (still using the previous content)" : ""
                let problem = error.description + kept
                if rejected[file.name]?.problem != problem {
                    await roster.setProblem(file.name, problem)
                    logger.error("invalid remote cluster file\(kept)", metadata: ["error": "\(error)"])
                }
                rejected[file.name] = Rejected(text: file.text, problem: problem, at: now)
                continue
            case .success(let parsed):
                config = parsed
                rejected[file.name] = nil
            }
            if let previous = followed.removeValue(forKey: file.name) {
                previous.task.cancel()
                await previous.task.value
                logger.info("remote cluster file changed; reconnecting", metadata: ["cluster": "\(config.name)"])
            }
            await roster.configure(file.name, endpoints: config.endpoints, warnings: config.unknownKeys.map { "unknown key '\($0)' ignored" })
            if !config.unknownKeys.isEmpty {
                logger.warning("remote cluster file has keys Interlink does not know; ignored", metadata: [
                    "file": "\(file.name)", "keys": "\(config.unknownKeys.joined(separator: ","))",
                ])
            }
            guard config.name != localCluster else {
                await roster.setProblem(file.name, "\(config.name) is this cluster's own name: remove \(directory)/\(file.name)")
                logger.error("a remote cluster file has this cluster's own name; ignored", metadata: ["file": "\(file.name)"])
                followed[file.name] = Followed(text: file.text, task: Task {})
                continue
            }
            followed[file.name] = Followed(
                text: file.text, referenced: config.referencedFiles, stamp: ClusterMeshDirectory.stamp(of: config.referencedFiles),
                task: Task { await follow(config) })
        }
    }

    /// Learns the remote's ID from its cluster config, checks it is free, then watches it.
    private func follow(_ config: RemoteClusterConfig) async {
        let store: EtcdClient
        do {
            // The connect timeout (2 s) finds a black-holed endpoint; the request timeout (5 s, the
            // default) leaves a loaded remote store time to answer a large list.
            store = try EtcdClient(endpoints: config.endpoints, tls: config.tls, credentials: config.credentials, hostAliases: config.hostAliases)
        } catch {
            await roster.setProblem(config.name.rawValue, "the cluster file of \(config.name) cannot be used: \(error)")
            return
        }
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                let id = try await RemoteClusterConfigReader.clusterID(of: config.name, in: store, localMaximum: maxConnectedClusters)
                guard id != localID else {
                    throw RemoteClusterError("cluster \(config.name) has ID \(id), the ID of this cluster (\(localCluster)): IDs must be unique in the mesh")
                }
                if let holder = await roster.claim(id, for: config.name) {
                    throw RemoteClusterError("cluster \(config.name) has ID \(id), already used by connected cluster \(holder): IDs must be unique in the mesh; \(config.name) is not connected")
                }
                let watcher = RemoteClusterWatcher(
                    cluster: config.name, clusterID: id, maxConnectedClusters: maxConnectedClusters, store: store, cacheTTL: cacheTTL, logger: logger
                ) { cache in
                    writer.updateRemote(cache)
                }
                await roster.attach(config.name, watcher)
                logger.info("connected to remote cluster", metadata: ["cluster": "\(config.name)", "cluster-id": "\(id)"])
                await watcher.run()
                break
            } catch {
                await roster.failed(config.name, "\(error)")
                logger.warning("remote cluster not ready; retrying", metadata: ["cluster": "\(config.name)", "error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        await roster.release(config.name)
        await store.shutdown()
    }
}

enum RemoteClusterConfigReader {
    static func clusterID(of cluster: ClusterName, in store: EtcdClient, localMaximum: MaxConnectedClusters) async throws -> ClusterID {
        guard let value = try await store.range(KVStoreKeys.clusterConfig(cluster: cluster)).kvs.first?.value else {
            throw RemoteClusterError("cluster \(cluster) has not written \(KVStoreKeys.clusterConfig(cluster: cluster)) yet")
        }
        return try ClusterConfig.decodeValidated(value, cluster: cluster, localMaximum: localMaximum).id
    }
}
