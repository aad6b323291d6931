/// The JSON body of `GET /v1/clusters`: this cluster and every configured remote one.
/// Field names are API: change them only compatibly.
public struct ClustersDocument: Codable, Sendable {
    public struct Local: Codable, Sendable {
        /// Whether this cluster's store took the last export (nil without a store).
        public var storeHealthy: Bool?
        /// Why the last export failed, if it did.
        public var storeError: String?
        public var lastExportAgeSeconds: Double?
        public var name: String
        public var id: Int
        /// embedded, etcd or none.
        public var kvstore: String
        /// Where other clusters read this cluster's store (what `interlink connect` gives them).
        public var storeEndpoints: [String]
        public var globalServices: Int
        /// Remote backends in the routes now used by new connections (all services and ports).
        public var remoteBackendsRouted: Int
    }

    public struct Remote: Codable, Sendable {
        public var name: String
        public var endpoints: [String]
        public var id: Int?
        public var connected: Bool
        /// Why the cluster is not followed as configured (invalid file, taken ID, ...).
        public var problem: String?
        public var lastSync: String?
        public var lastSyncAgeSeconds: Double?
        public var services: Int
        public var backends: Int
        public var invalidEntries: Int
        public var lastInvalid: String?
        public var failures: Int
        public var lastError: String?
        /// From its cluster config: a KVStoreMesh cache (data under `cilium/cache/`).
        public var cached: Bool?
        /// Whether its synced services canary was seen (nil: it writes none).
        public var canarySeen: Bool?
        /// What its capabilities mean here (e.g. it exports no services in the v1 format).
        public var note: String?
        /// Keys of its cluster file that Interlink does not know (ignored).
        public var warnings: [String]?
    }

    public var local: Local
    public var remotes: [Remote]
}
