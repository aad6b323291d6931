/// Which cluster's backends a global service prefers (`service.cilium.io/affinity`).
public enum ServiceAffinity: String, Hashable, Sendable, CaseIterable {
    case none, local, remote
}

/// How a new connection picks among the eligible backends (`service.cilium.io/lb-algorithm`).
public enum LoadBalancingAlgorithm: String, Hashable, Sendable, CaseIterable {
    case random, maglev
}

/// `spec.sessionAffinity`: `ClientIP` pins a client address to a backend for `timeout`.
public enum SessionAffinity: Hashable, Sendable {
    case none
    case clientIP(timeout: Duration)

    public static let defaultTimeout = Duration.seconds(10800)
}

/// `targetPort` of a Service port: a number, or the name of an EndpointSlice port.
public enum TargetPort: Hashable, Sendable, CustomStringConvertible {
    case number(UInt16)
    case name(String)

    public var description: String {
        switch self {
        case .number(let n): String(n)
        case .name(let s): s
        }
    }
}

/// One entry of `spec.ports`.
public struct ServicePort: Hashable, Sendable {
    /// Empty when the Service has a single unnamed port.
    public var name: String
    public var port: UInt16
    public var targetPort: TargetPort
    public var transport: TransportProtocol
    /// `appProtocol` (such as `http` or `kubernetes.io/h2c`): kept and exported to the cluster set.
    public var appProtocol: String?

    public init(name: String, port: UInt16, targetPort: TargetPort, transport: TransportProtocol = .tcp, appProtocol: String? = nil) {
        self.appProtocol = appProtocol
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self.transport = transport
    }
}

/// A local Service as declared in the manifests, annotations already parsed.
public struct ServiceSpec: Hashable, Sendable {
    public var name: ServiceName
    public var clusterIP: IPAddress
    public var ports: [ServicePort]
    public var isGlobal: Bool
    /// Export the local backends to other clusters (only meaningful when global).
    public var isShared: Bool
    public var affinity: ServiceAffinity
    public var algorithm: LoadBalancingAlgorithm
    public var sessionAffinity: SessionAffinity
    public var healthCheck: HealthCheckSpec
    /// How new connections are shared among clusters beyond affinity (`interlink.io/...`).
    public var routing: RoutingPolicy
    /// The annotations as written, so that a live change (`interlink annotate`) re-parses them.
    public var annotations: [String: String]
    /// How long a UDP flow (client address and port) stays pinned to its backend without a
    /// datagram either way (`interlink.io/udp-flow-timeout`).
    public var udpFlowTimeout: Duration = ServiceSpec.defaultUDPFlowTimeout

    public static let defaultUDPFlowTimeout = Duration.seconds(30)
    /// The MCS-API ServiceExport of this Service, if any: it makes the Service global and shared.
    public var export: ServiceExportSpec?

    /// Attaches `export`: global and shared whatever the annotations say (the manifests'
    /// validation refuses annotations that say otherwise).
    public mutating func exported(by export: ServiceExportSpec) {
        self.export = export
        isGlobal = true
        isShared = true
    }

    public init(
        name: ServiceName, clusterIP: IPAddress, ports: [ServicePort], isGlobal: Bool = false,
        isShared: Bool = true, affinity: ServiceAffinity = .none, algorithm: LoadBalancingAlgorithm = .random,
        sessionAffinity: SessionAffinity = .none, healthCheck: HealthCheckSpec = HealthCheckSpec(), routing: RoutingPolicy = RoutingPolicy(),
        annotations: [String: String] = [:]
    ) {
        self.routing = routing
        self.annotations = annotations
        self.name = name
        self.clusterIP = clusterIP
        self.ports = ports
        self.isGlobal = isGlobal
        self.isShared = isShared
        self.affinity = affinity
        self.algorithm = algorithm
        self.sessionAffinity = sessionAffinity
        self.healthCheck = healthCheck
    }

    /// The spec with its annotations changed: `changes` sets keys (a nil value removes one).
    /// Throws, naming every bad annotation, when the result is not valid; `self` is unchanged.
    public func annotated(_ changes: [String: String?]) throws(AnnotationErrors) -> ServiceSpec {
        var raw = annotations
        for (key, value) in changes { raw[key] = value }
        var problems: [String] = []
        guard let parsed = ServiceAnnotations.parse(raw, report: { field, value, message in
            problems.append("metadata.annotations[\"\(field)\"]: \(value) \(message)")
        }) else {
            throw AnnotationErrors(service: name, problems: problems)
        }
        var next = self
        if raw[ServiceAnnotations.frontend] != annotations[ServiceAnnotations.frontend] {
            throw AnnotationErrors(service: name, problems: [
                "metadata.annotations[\"\(ServiceAnnotations.frontend)\"]: the frontend address cannot change with annotate: apply the Service with the new annotation (interlink apply -f FILE)",
            ])
        }
        if let export, let (field, _, _) = ServiceAnnotations.exportContradictions(raw).first {
            throw AnnotationErrors(service: name, problems: [
                "metadata.annotations[\"\(field)\"]: false contradicts the ServiceExport \(export.name), which makes the Service global and shared: delete the ServiceExport instead",
            ])
        }
        next.annotations = raw
        next.isGlobal = parsed.isGlobal || export != nil
        next.isShared = parsed.isShared || export != nil
        next.affinity = parsed.affinity
        next.algorithm = parsed.algorithm
        next.healthCheck = parsed.healthCheck
        next.routing = parsed.routing
        next.udpFlowTimeout = parsed.udpFlowTimeout
        if let problem = Self.udpHealthCheckProblem(next.healthCheck, annotations: raw, ports: ports) {
            throw AnnotationErrors(service: name, problems: ["metadata.annotations[\"\(ServiceAnnotations.healthCheck)\"]: \(problem)"])
        }
        return next
    }

    /// Why an active check asked for explicitly cannot check this Service's UDP ports, or nil.
    /// Without `interlink.io/health-check` a UDP port is not checked actively (a failed
    /// datagram to a backend still counts as a passive failure).
    public static func udpHealthCheckProblem(_ check: HealthCheckSpec, annotations: [String: String], ports: [ServicePort]) -> String? {
        guard ports.contains(where: { $0.transport == .udp }), check.port == nil, check.kind != .none,
            let asked = annotations[ServiceAnnotations.healthCheck]
        else { return nil }
        return "\(asked) cannot check a UDP port by itself: add \(ServiceAnnotations.healthCheckPort) with a TCP port of the backends to check, or set none"
    }
}

/// Why a live annotation change was refused: every bad annotation of the result.
public struct AnnotationErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var service: ServiceName
    public var problems: [String]

    public var description: String {
        "Service \(service): " + problems.joined(separator: "; ")
    }
}

/// One address of an EndpointSlice with its conditions.
public struct EndpointSpec: Hashable, Sendable {
    public var addresses: [IPAddress]
    public var state: BackendState
    public var zone: String?
    public var hostname: String?
    /// `hints.forZones`: the zones that should use this endpoint (topology-aware routing).
    public var forZones: [String]

    public init(addresses: [IPAddress], state: BackendState, zone: String? = nil, hostname: String? = nil, forZones: [String] = []) {
        self.addresses = addresses
        self.state = state
        self.zone = zone
        self.hostname = hostname
        self.forZones = forZones
    }
}

/// A `discovery.k8s.io/v1` EndpointSlice: the backends of one Service.
public struct EndpointSliceSpec: Hashable, Sendable {
    public var name: String
    public var service: ServiceName
    public var addressType: IPAddress.Family
    public var endpoints: [EndpointSpec]
    /// Port name (empty for unnamed) to port number.
    public var ports: [String: UInt16]

    public init(name: String, service: ServiceName, addressType: IPAddress.Family, endpoints: [EndpointSpec], ports: [String: UInt16]) {
        self.name = name
        self.service = service
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }
}
