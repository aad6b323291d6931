import InterlinkCore

/// The JSON body of `GET /v1/services`. Field names are API: change them only compatibly.
public struct ServicesDocument: Codable, Sendable {
    public struct Cluster: Codable, Sendable {
        public var name: String
        public var id: Int

        public init(name: String, id: Int) {
            self.name = name
            self.id = id
        }
    }

    public struct SessionAffinity: Codable, Sendable {
        public var mode: String
        public var timeoutSeconds: Int?

        public init(_ affinity: InterlinkCore.SessionAffinity) {
            switch affinity {
            case .none:
                mode = "None"
            case .clientIP(let timeout):
                mode = "ClientIP"
                timeoutSeconds = Int(timeout.components.seconds)
            }
        }

        public init(mode: String, timeoutSeconds: Int? = nil) {
            self.mode = mode
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public struct HealthCheck: Codable, Sendable {
        public var kind: String
        public var path: String?
        public var interval: String
        public var timeout: String
        public var rise: Int
        public var fall: Int

        public init(_ spec: HealthCheckSpec) {
            switch spec.kind {
            case .tcp: kind = "tcp"
            case .http(let path):
                kind = "http"
                self.path = path
            case .none: kind = "none"
            }
            interval = DurationText.format(spec.interval)
            timeout = DurationText.format(spec.timeout)
            rise = spec.rise
            fall = spec.fall
        }

        public init(kind: String, path: String? = nil, interval: String, timeout: String, rise: Int, fall: Int) {
            self.kind = kind
            self.path = path
            self.interval = interval
            self.timeout = timeout
            self.rise = rise
            self.fall = fall
        }
    }

    public struct Backend: Codable, Sendable {
        public var address: String
        public var cluster: String
        /// active, terminating or maintenance (from the EndpointSlice).
        public var state: String
        /// up or down (from health checks).
        public var health: String
        public var healthDetail: String?
        /// Takes new connections now.
        public var eligible: Bool
        /// Why not, when not eligible.
        public var reason: String?
        public var activeConnections: Int
        public var totalConnections: Int
        public var failedDials: Int
        public var zone: String?
        public var hostname: String?
        /// Its share of new connections (0 to 1) in the route planner's plan.
        public var share: Double?

        public init(address: String, cluster: String, state: String, health: String, healthDetail: String? = nil, eligible: Bool, reason: String? = nil, activeConnections: Int, totalConnections: Int, failedDials: Int, zone: String? = nil, hostname: String? = nil, share: Double? = nil) {
            self.share = share
            self.address = address
            self.cluster = cluster
            self.state = state
            self.health = health
            self.healthDetail = healthDetail
            self.eligible = eligible
            self.reason = reason
            self.activeConnections = activeConnections
            self.totalConnections = totalConnections
            self.failedDials = failedDials
            self.zone = zone
            self.hostname = hostname
        }
    }

    public struct Frontend: Codable, Sendable {
        public var address: String
        /// `TCP` or `UDP` (absent from agents older than UDP support: TCP).
        public var `protocol`: String?
        public var portName: String
        /// Why the eligible backends are what they are, in a sentence (`explainSelection`).
        public var explanation: String
        public var backends: [Backend]
        /// The failover tiers in order, with their health and share.
        public var tiers: [Tier]?
        /// No tier had a healthy backend: every backend not drained or refused is tried.
        public var panic: Bool?

        public init(
            address: String, protocol: String? = nil, portName: String, explanation: String, backends: [Backend], tiers: [Tier]? = nil, panic: Bool? = nil
        ) {
            self.protocol = `protocol`
            self.tiers = tiers
            self.panic = panic
            self.address = address
            self.portName = portName
            self.explanation = explanation
            self.backends = backends
        }
    }

    public struct Service: Codable, Sendable {
        public var namespace: String
        public var name: String
        public var clusterIP: String
        public var global: Bool
        public var shared: Bool
        public var affinity: String
        public var algorithm: String
        public var sessionAffinity: SessionAffinity
        public var healthCheck: HealthCheck
        /// Failover order, thresholds, spill, failback, weights and panic.
        public var routing: Routing?
        /// Every annotation in force: the manifest's, with live `annotate` changes.
        public var annotations: [String: String]?
        public var frontends: [Frontend]
        /// The last routing change of this service, and its cause.
        public var lastChange: ChangeEvent?
        /// For a Service with an MCS-API ServiceExport: the cluster set's view of it.
        public var clusterSet: ClusterSet?

        public init(namespace: String, name: String, clusterIP: String, global: Bool, shared: Bool, affinity: String, algorithm: String, sessionAffinity: SessionAffinity, healthCheck: HealthCheck, routing: Routing? = nil, annotations: [String: String]? = nil, frontends: [Frontend], lastChange: ChangeEvent? = nil) {
            self.routing = routing
            self.namespace = namespace
            self.name = name
            self.clusterIP = clusterIP
            self.global = global
            self.shared = shared
            self.affinity = affinity
            self.algorithm = algorithm
            self.sessionAffinity = sessionAffinity
            self.healthCheck = healthCheck
            self.annotations = annotations
            self.frontends = frontends
            self.lastChange = lastChange
        }
    }

    public var cluster: Cluster
    public var services: [Service]

    public init(cluster: Cluster, services: [Service]) {
        self.cluster = cluster
        self.services = services
    }
}
