import InterlinkCore

/// What is known of one remote cluster's services, with Cilium's resync rule: on reconnect
/// every entry is marked stale, the re-list unmarks what it sees again, and what stays stale
/// is dropped once the list is complete. Pure value; the watcher drives it.
public struct RemoteServiceCache: Hashable, Sendable {
    public let cluster: ClusterName
    public let clusterID: ClusterID
    public private(set) var services: [ServiceName: RemoteService] = [:]
    /// Its MCS-API exports (`cilium/state/serviceexports/v1`), when it has them enabled.
    public private(set) var exports: [ServiceName: ClusterSetExport] = [:]
    /// Invalid entries seen (skipped), and the last one's reason.
    public private(set) var invalidEntries = 0
    public private(set) var lastInvalid: InvalidRemoteEntry?
    private var stale: Set<ServiceName> = []
    private var staleExports: Set<ServiceName> = []

    public init(cluster: ClusterName, clusterID: ClusterID) {
        self.cluster = cluster
        self.clusterID = clusterID
    }

    /// Before a re-list: everything known may be gone.
    public mutating func beginResync() {
        stale = Set(services.keys)
        staleExports = Set(exports.keys)
    }

    /// After a complete list: drops what the list did not show again.
    public mutating func finishResync() {
        for name in stale { services[name] = nil }
        for name in staleExports { exports[name] = nil }
        stale = []
        staleExports = []
    }

    /// A key was written (listed or watched). A valid service replaces what was known under
    /// its name. An invalid value is counted and returned, and it removes what the key held
    /// before: the remote no longer vouches for those backends.
    @discardableResult
    public mutating func put(key: String, value: [UInt8]) -> InvalidRemoteEntry? {
        if let parsed = KVStoreKeys.parseServiceExport(key) {
            do {
                exports[parsed.name] = try MCSAPIServiceSpec.decodeValidated(value, key: key, cluster: cluster)
                staleExports.remove(parsed.name)
                return nil
            } catch {
                invalidEntries += 1
                lastInvalid = error
                if parsed.cluster == cluster.rawValue {
                    exports[parsed.name] = nil
                    staleExports.remove(parsed.name)
                }
                return error
            }
        }
        do {
            let service = try ClusterService.decodeValidated(value, key: key, cluster: cluster, clusterID: clusterID)
            services[service.name] = service
            stale.remove(service.name)
            return nil
        } catch {
            invalidEntries += 1
            lastInvalid = error
            if let parsed = KVStoreKeys.parseService(key), parsed.cluster == cluster.rawValue {
                services[parsed.name] = nil
                stale.remove(parsed.name)
            }
            return error
        }
    }

    /// A key was deleted.
    public mutating func delete(key: String) {
        if let parsed = KVStoreKeys.parseServiceExport(key), parsed.cluster == cluster.rawValue {
            exports[parsed.name] = nil
            staleExports.remove(parsed.name)
            return
        }
        guard let parsed = KVStoreKeys.parseService(key), parsed.cluster == cluster.rawValue else { return }
        services[parsed.name] = nil
        stale.remove(parsed.name)
    }

    /// Forgets everything (the cluster was disconnected: drain its backends).
    public mutating func clear() {
        services = [:]
        exports = [:]
        stale = []
        staleExports = []
    }
}
