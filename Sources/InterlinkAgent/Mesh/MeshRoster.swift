import Foundation
import InterlinkAPI
import InterlinkCore
import InterlinkMesh

/// The remote clusters this agent is configured to follow and how each is doing: for the
/// status API, and to keep cluster IDs unique among them.
///
/// Threading: an actor; `RemoteClusters` writes, the API reads.
actor MeshRoster {
    struct Entry {
        var endpoints: [String] = []
        var warnings: [String] = []
        /// Why the file is not followed (or not as written): invalid, the local name, a taken ID.
        var problem: String?
        var id: ClusterID?
        var watcher: RemoteClusterWatcher?
        /// Failures before a watcher exists (unreachable store, no cluster config yet).
        var failures = 0
        var lastError: String?
    }

    private var entries: [String: Entry] = [:]
    private var idHolders: [ClusterID: ClusterName] = [:]

    func configure(_ file: String, endpoints: [String], warnings: [String] = []) {
        entries[file, default: Entry()].endpoints = endpoints
        entries[file]?.warnings = warnings
        entries[file]?.problem = nil
    }

    func setProblem(_ file: String, _ problem: String?) {
        entries[file, default: Entry()].problem = problem
    }

    func remove(_ file: String) {
        if let id = entries[file]?.id, idHolders[id]?.rawValue == file { idHolders[id] = nil }
        entries[file] = nil
    }

    /// Takes `id` for `cluster`; returns the cluster that already holds it, if another does.
    func claim(_ id: ClusterID, for cluster: ClusterName) -> ClusterName? {
        if let holder = idHolders[id], holder != cluster { return holder }
        if let previous = entries[cluster.rawValue]?.id, previous != id, idHolders[previous] == cluster { idHolders[previous] = nil }
        idHolders[id] = cluster
        entries[cluster.rawValue, default: Entry()].id = id
        return nil
    }

    func release(_ cluster: ClusterName) {
        for (id, holder) in idHolders where holder == cluster { idHolders[id] = nil }
        entries[cluster.rawValue]?.watcher = nil
    }

    func failed(_ cluster: ClusterName, _ error: String) {
        entries[cluster.rawValue, default: Entry()].failures += 1
        entries[cluster.rawValue]?.lastError = error
    }

    func attach(_ cluster: ClusterName, _ watcher: RemoteClusterWatcher) {
        entries[cluster.rawValue, default: Entry()].watcher = watcher
        entries[cluster.rawValue]?.lastError = nil
    }

    func statuses(now: Date = Date()) async -> [ClustersDocument.Remote] {
        var result: [ClustersDocument.Remote] = []
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let report = await entry.watcher?.report()
            result.append(ClustersDocument.Remote(
                name: name, endpoints: entry.endpoints, id: entry.id.map { Int($0.rawValue) },
                connected: report?.connected ?? false, problem: entry.problem,
                lastSync: report?.lastSync.map { ISO8601DateFormatter().string(from: $0) },
                lastSyncAgeSeconds: report?.lastSync.map { max(0, now.timeIntervalSince($0)) },
                services: report?.services ?? 0, backends: report?.backends ?? 0,
                invalidEntries: report?.invalidEntries ?? 0, lastInvalid: report?.lastInvalid,
                failures: entry.failures + (report?.failures ?? 0), lastError: report?.lastError ?? entry.lastError,
                cached: report?.cached, canarySeen: report?.canarySeen, note: report?.note,
                warnings: entry.warnings.isEmpty ? nil : entry.warnings))
        }
        return result
    }
}
