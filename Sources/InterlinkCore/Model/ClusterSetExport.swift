/// One cluster's export of a service to the cluster set (MCS-API, KEP-1645), as Cilium shares
/// it (`MCSAPIServiceSpec`): what the ServiceImport of every cluster is built from.
public struct ClusterSetExport: Hashable, Sendable {
    /// An MCS `ServicePort`: the frontend port, not the backends'.
    public struct Port: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        /// `TCP`, `UDP` or `SCTP`, as the exporting cluster wrote it.
        public var protocolName: String
        public var appProtocol: String?
        public var port: UInt16

        public init(name: String, protocolName: String, appProtocol: String? = nil, port: UInt16) {
            self.name = name
            self.protocolName = protocolName
            self.appProtocol = appProtocol
            self.port = port
        }

        public var description: String { "\(port)/\(protocolName)" }
    }

    public var cluster: ClusterName
    /// When the ServiceExport was created, in milliseconds since 1970: the oldest export wins a
    /// conflict (ties: the cluster name first in order).
    public var createdAt: Int64
    /// The same time as written (RFC 3339).
    public var createdText: String
    public var ports: [Port]
    /// `ClusterSetIP` or `Headless`.
    public var type: String
    /// `None` or `ClientIP`, with ClientIP's timeout in seconds if set.
    public var sessionAffinity: String
    public var sessionAffinityTimeout: Int?

    public init(
        cluster: ClusterName, createdAt: Int64, createdText: String, ports: [Port], type: String = "ClusterSetIP", sessionAffinity: String = "None",
        sessionAffinityTimeout: Int? = nil
    ) {
        self.cluster = cluster
        self.createdAt = createdAt
        self.createdText = createdText
        self.ports = ports
        self.type = type
        self.sessionAffinity = sessionAffinity
        self.sessionAffinityTimeout = sessionAffinityTimeout
    }

    /// Whether `self` is older than `other` (the winner of a conflict).
    func isOlder(than other: ClusterSetExport) -> Bool {
        (createdAt, cluster.rawValue) < (other.createdAt, other.cluster.rawValue)
    }
}

/// The cluster set's view of one exported service, as every cluster's ServiceImport shows it:
/// the ports (the union, a conflicting one as the oldest export has it), the type and session
/// affinity of the oldest export, the exporting clusters, and a `Conflict` condition.
public struct ServiceImportView: Hashable, Sendable {
    public struct Condition: Hashable, Sendable {
        public var type: String
        /// `True` or `False`.
        public var status: String
        public var reason: String
        public var message: String
    }

    public var type: String
    public var ports: [ClusterSetExport.Port]
    public var sessionAffinity: String
    public var sessionAffinityTimeout: Int?
    /// The exporting clusters, oldest export first.
    public var clusters: [ClusterName]
    public var conditions: [Condition]
    /// Per port name, the clusters whose port of that name agrees with the cluster set's (same
    /// number and protocol): only their backends serve that port.
    public var agreeing: [String: Set<ClusterName>]

    /// Whether `cluster`'s backends serve the port named `name` (a cluster that does not
    /// export the service through the MCS-API is not judged here).
    public func serves(port name: String, from cluster: ClusterName) -> Bool {
        guard clusters.contains(cluster) else { return true }
        return agreeing[name]?.contains(cluster) ?? false
    }

    /// Resolves the exports of one service by the MCS-API's rule: where clusters disagree, the
    /// oldest export wins, and the disagreement is reported as a `Conflict` condition.
    public static func resolve(_ exports: [ClusterSetExport]) -> ServiceImportView? {
        let ordered = exports.sorted { $0.isOlder(than: $1) }
        guard let oldest = ordered.first else { return nil }
        var ports: [ClusterSetExport.Port] = []
        var agreeing: [String: Set<ClusterName>] = [:]
        var messages: [(reason: String, text: String)] = []
        for export in ordered {
            for port in export.ports {
                if let winner = ports.first(where: { $0.name == port.name }) {
                    if winner.port == port.port, winner.protocolName == port.protocolName {
                        agreeing[port.name, default: []].insert(export.cluster)
                    } else {
                        let name = port.name.isEmpty ? "the unnamed port" : "port \(port.name)"
                        messages.append(("PortConflict", "\(name): \(export.cluster) exports \(port), the cluster set has \(winner) (the oldest export); \(export.cluster)'s backends do not serve it"))
                    }
                } else {
                    ports.append(port)
                    agreeing[port.name, default: []].insert(export.cluster)
                }
            }
        }
        for export in ordered.dropFirst() {
            if export.type != oldest.type {
                messages.append(("TypeConflict", "\(export.cluster) exports type \(export.type), the cluster set has \(oldest.type) (\(oldest.cluster), the oldest export)"))
            }
            if export.sessionAffinity != oldest.sessionAffinity || export.sessionAffinityTimeout != oldest.sessionAffinityTimeout {
                messages.append(("SessionAffinityConflict", "\(export.cluster) exports sessionAffinity \(affinityText(export)), the cluster set has \(affinityText(oldest)) (\(oldest.cluster), the oldest export)"))
            }
        }
        let condition: Condition
        if messages.isEmpty {
            condition = Condition(type: "Conflict", status: "False", reason: "NoConflicts", message: "the exports of \(ordered.count) cluster(s) agree")
        } else {
            let reasons = Set(messages.map(\.reason))
            condition = Condition(
                type: "Conflict", status: "True", reason: reasons.count == 1 ? messages[0].reason : "MultipleConflicts",
                message: messages.map(\.text).joined(separator: "; "))
        }
        return ServiceImportView(
            type: oldest.type, ports: ports, sessionAffinity: oldest.sessionAffinity, sessionAffinityTimeout: oldest.sessionAffinityTimeout,
            clusters: ordered.map(\.cluster), conditions: [condition], agreeing: agreeing)
    }

    static func affinityText(_ export: ClusterSetExport) -> String {
        export.sessionAffinityTimeout.map { "\(export.sessionAffinity) (\($0) s)" } ?? export.sessionAffinity
    }
}

extension ClusterSetExport {
    /// This cluster's export of `spec` (which must have a ServiceExport), created at `createdAt`.
    public init(exporting spec: ServiceSpec, cluster: ClusterName, createdAt: Int64, createdText: String) {
        var timeout: Int?
        var affinity = "None"
        if case .clientIP(let duration) = spec.sessionAffinity {
            affinity = "ClientIP"
            timeout = Int(duration.components.seconds)
        }
        self.init(
            cluster: cluster, createdAt: createdAt, createdText: createdText,
            ports: spec.ports.map { Port(name: $0.name, protocolName: $0.transport.rawValue, appProtocol: $0.appProtocol, port: $0.port) },
            sessionAffinity: affinity, sessionAffinityTimeout: timeout)
    }
}
