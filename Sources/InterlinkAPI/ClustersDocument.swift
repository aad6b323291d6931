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

        public init(storeHealthy: Bool? = nil, storeError: String? = nil, lastExportAgeSeconds: Double? = nil, name: String, id: Int, kvstore: String, storeEndpoints: [String], globalServices: Int, remoteBackendsRouted: Int) {
            self.storeHealthy = storeHealthy
            self.storeError = storeError
            self.lastExportAgeSeconds = lastExportAgeSeconds
            self.name = name
            self.id = id
            self.kvstore = kvstore
            self.storeEndpoints = storeEndpoints
            self.globalServices = globalServices
            self.remoteBackendsRouted = remoteBackendsRouted
        }
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

        public init(name: String, endpoints: [String], id: Int? = nil, connected: Bool, problem: String? = nil, lastSync: String? = nil, lastSyncAgeSeconds: Double? = nil, services: Int, backends: Int, invalidEntries: Int, lastInvalid: String? = nil, failures: Int, lastError: String? = nil, cached: Bool? = nil, canarySeen: Bool? = nil, note: String? = nil, warnings: [String]? = nil) {
            self.name = name
            self.endpoints = endpoints
            self.id = id
            self.connected = connected
            self.problem = problem
            self.lastSync = lastSync
            self.lastSyncAgeSeconds = lastSyncAgeSeconds
            self.services = services
            self.backends = backends
            self.invalidEntries = invalidEntries
            self.lastInvalid = lastInvalid
            self.failures = failures
            self.lastError = lastError
            self.cached = cached
            self.canarySeen = canarySeen
            self.note = note
            self.warnings = warnings
        }
    }

    /// The agent's manifest files (watched) and the live changes made over them.
    public struct Manifests: Codable, Sendable {
        public var path: String
        /// When the files were last read with a change (RFC 3339), and whether it was taken.
        public var lastChange: String?
        /// `applied` or `rejected` (the previous files stay in force).
        public var lastResult: String?
        /// The problems of a rejected change (at most 20), or what an applied one skipped.
        public var problems: [String]
        public var report: [String]
        /// Live changes that win over the files (`interlink apply`, `delete`, `annotate`,
        /// `drain`), as `KIND NAMESPACE/NAME`; `interlink revert` drops a service's.
        public var overrides: [String]

        public init(path: String, lastChange: String? = nil, lastResult: String? = nil, problems: [String] = [], report: [String] = [], overrides: [String] = []) {
            self.path = path
            self.lastChange = lastChange
            self.lastResult = lastResult
            self.problems = problems
            self.report = report
            self.overrides = overrides
        }
    }

    public var local: Local
    public var remotes: [Remote]
    public var manifests: Manifests?

    public init(local: Local, remotes: [Remote], manifests: Manifests? = nil) {
        self.local = local
        self.remotes = remotes
        self.manifests = manifests
    }
}
