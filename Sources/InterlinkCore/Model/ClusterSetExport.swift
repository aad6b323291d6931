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
    /// The ServiceExport's `exportedLabels` and `exportedAnnotations`.
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]

    public init(
        cluster: ClusterName, createdAt: Int64, createdText: String, ports: [Port], type: String = "ClusterSetIP", sessionAffinity: String = "None",
        sessionAffinityTimeout: Int? = nil, labels: [String: String] = [:], annotations: [String: String] = [:]
    ) {
        self.labels = labels
        self.annotations = annotations
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
    /// The exporting clusters, by name (as a ServiceImport's `status.clusters`).
    public var clusters: [ClusterName]
    /// The cluster whose export is the oldest: its definitions win.
    public var oldestCluster: ClusterName
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

    /// Resolves the exports of one service as the MCS-API says and Cilium's MCS-API controller
    /// does: exports ordered oldest first (ties: cluster name); ports merged by number and
    /// protocol, a name already taken by a different port keeping the oldest's definition
    /// (`PortConflict`, and the disagreeing cluster's backends do not serve that port); then
    /// the first field that a newer export has differently (type, session affinity, its
    /// timeout, exported annotations, exported labels) is the conflict reported.
    public static func resolve(_ exports: [ClusterSetExport]) -> ServiceImportView? {
        let ordered = exports.sorted { $0.isOlder(than: $1) }
        guard let oldest = ordered.first else { return nil }
        var ports: [(port: ClusterSetExport.Port, cluster: ClusterName)] = []
        var byName: [String: (port: ClusterSetExport.Port, cluster: ClusterName)] = [:]
        var agreeing: [String: Set<ClusterName>] = [:]
        var conflict: (reason: String, message: String)?
        func similar(_ a: ClusterSetExport.Port, _ b: ClusterSetExport.Port) -> Bool { a.port == b.port && a.protocolName == b.protocolName }
        for export in ordered {
            for port in export.ports {
                if let named = byName[port.name], !similar(named.port, port) {
                    conflict = conflict ?? ("PortConflict", "Duplicated port name \"\(port.name)\": \(export.cluster) exports \(port). Using port definition \(named.port) from oldest service export in cluster \"\(named.cluster)\"; the backends of \(export.cluster) do not serve it.")
                    continue
                }
                agreeing[port.name, default: []].insert(export.cluster)
                if let index = ports.firstIndex(where: { similar($0.port, port) }) {
                    let older = ports[index]
                    if older.port.name != port.name {
                        conflict = conflict ?? ("PortConflict", "Conflicting port name on \(port) in \(export.cluster). Using the port name \"\(older.port.name)\" from oldest service export in cluster \"\(older.cluster)\".")
                    } else if (older.port.appProtocol ?? "") != (port.appProtocol ?? "") {
                        conflict = conflict ?? ("PortConflict", "Conflicting appProtocol on \(port) in \(export.cluster). Using the appProtocol \"\(older.port.appProtocol ?? "")\" from oldest service export in cluster \"\(older.cluster)\".")
                    }
                } else {
                    byName[port.name] = byName[port.name] ?? (port, export.cluster)
                    ports.append((port, export.cluster))
                }
            }
        }
        if conflict == nil {
            let fields: [(name: String, reason: String, value: (ClusterSetExport) -> String)] = [
                ("type", "TypeConflict", { $0.type }),
                ("sessionAffinity", "SessionAffinityConflict", { $0.sessionAffinity }),
                ("sessionAffinityConfig.clientIP", "SessionAffinityConfigConflict", { $0.sessionAffinityTimeout.map(String.init) ?? "" }),
                ("annotations", "AnnotationsConflict", { describe($0.annotations) }),
                ("labels", "LabelsConflict", { describe($0.labels) }),
            ]
            search: for field in fields {
                let disagreeing = ordered.dropFirst().filter { field.value($0) != field.value(oldest) }
                guard !disagreeing.isEmpty else { continue }
                conflict = (field.reason, "Conflicting \(field.name). \(disagreeing.count)/\(ordered.count) clusters disagree (\(disagreeing.map(\.cluster.rawValue).joined(separator: ", "))). Using \"\(field.value(oldest))\" from oldest service export in cluster \"\(oldest.cluster)\".")
                break search
            }
        }
        let condition = conflict.map { Condition(type: "Conflict", status: "True", reason: $0.reason, message: $0.message) }
            ?? Condition(type: "Conflict", status: "False", reason: "NoConflicts", message: "The service exports of \(ordered.count) cluster(s) have no conflicts.")
        return ServiceImportView(
            type: oldest.type, ports: ports.map(\.port), sessionAffinity: oldest.sessionAffinity, sessionAffinityTimeout: oldest.sessionAffinityTimeout,
            clusters: ordered.map(\.cluster).sorted(), oldestCluster: oldest.cluster, conditions: [condition], agreeing: agreeing)
    }

    static func describe(_ map: [String: String]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
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
            sessionAffinity: affinity, sessionAffinityTimeout: timeout,
            labels: spec.export?.exportedLabels ?? [:], annotations: spec.export?.exportedAnnotations ?? [:])
    }
}
