import Foundation
import InterlinkCore

/// A cluster's MCS-API export of one service under
/// `cilium/state/serviceexports/v1/<cluster>/<namespace>/<name>`.
///
/// STABLE API: Cilium's `MCSAPIServiceSpec` (`pkg/clustermesh/mcsapi/types`), read by
/// Cilium's MCS-API controllers in other clusters to build their ServiceImports. Encoded as
/// Cilium encodes it (the legacy `Labels`/`Annotations` keys filled as well, empty maps and
/// unset pointers left out); decoded by Go's rules and checked as Cilium checks it.
public struct MCSAPIServiceSpec: Codable, Hashable, Sendable {
    /// An MCS `ServicePort` (`sigs.k8s.io/mcs-api`).
    public struct Port: Codable, Hashable, Sendable {
        public var name: String
        public var `protocol`: String
        public var appProtocol: String?
        public var port: Int

        public init(name: String, protocol: String, appProtocol: String? = nil, port: Int) {
            self.name = name
            self.protocol = `protocol`
            self.appProtocol = appProtocol
            self.port = port
        }

        enum CodingKeys: String, CodingKey { case name, `protocol`, appProtocol, port }

        public init(from decoder: any Decoder) throws {
            let fields = try GoJSONFields(decoder)
            name = try fields.string("name")
            `protocol` = try fields.string("protocol")
            appProtocol = try fields.decode(String.self, "appProtocol")
            port = try fields.number("port", in: 0...65535)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if !name.isEmpty { try container.encode(name, forKey: .name) }
            if !`protocol`.isEmpty { try container.encode(`protocol`, forKey: .protocol) }
            try container.encodeIfPresent(appProtocol, forKey: .appProtocol)
            try container.encode(port, forKey: .port)
        }
    }

    public var cluster: String
    public var name: String
    public var namespace: String
    public var annotations: [String: String]
    public var labels: [String: String]
    /// RFC 3339, as `metav1.Time` writes it.
    public var exportCreationTimestamp: String
    public var ports: [Port]
    /// `ClusterSetIP` or `Headless`.
    public var type: String
    /// `None` or `ClientIP`.
    public var sessionAffinity: String
    /// `sessionAffinityConfig.clientIP.timeoutSeconds`, if set.
    public var sessionAffinityTimeout: Int?

    public init(
        cluster: String, name: String, namespace: String, annotations: [String: String] = [:], labels: [String: String] = [:],
        exportCreationTimestamp: String, ports: [Port], type: String = "ClusterSetIP", sessionAffinity: String = "None", sessionAffinityTimeout: Int? = nil
    ) {
        self.cluster = cluster
        self.name = name
        self.namespace = namespace
        self.annotations = annotations
        self.labels = labels
        self.exportCreationTimestamp = exportCreationTimestamp
        self.ports = ports
        self.type = type
        self.sessionAffinity = sessionAffinity
        self.sessionAffinityTimeout = sessionAffinityTimeout
    }

    enum CodingKeys: String, CodingKey {
        case cluster, name, namespace, annotations, labels, legacyLabels = "Labels", legacyAnnotations = "Annotations"
        case exportCreationTimestamp, ports, type, sessionAffinity, sessionAffinityConfig
    }

    /// Go reads `Labels` into the legacy field only when no `labels` key matches exactly;
    /// Cilium then falls back to it when `labels` is empty.
    public init(from decoder: any Decoder) throws {
        let fields = try GoJSONFields(decoder)
        let exact = try decoder.container(keyedBy: CodingKeys.self)
        cluster = try fields.string("cluster")
        name = try fields.string("name")
        namespace = try fields.string("namespace")
        let labels = try exact.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        let annotations = try exact.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        self.labels = labels.isEmpty ? try exact.decodeIfPresent([String: String].self, forKey: .legacyLabels) ?? [:] : labels
        self.annotations = annotations.isEmpty ? try exact.decodeIfPresent([String: String].self, forKey: .legacyAnnotations) ?? [:] : annotations
        exportCreationTimestamp = try fields.string("exportCreationTimestamp")
        ports = try fields.decode([Port].self, "ports") ?? []
        type = try fields.string("type")
        sessionAffinity = try fields.string("sessionAffinity")
        if let config = try fields.object("sessionAffinityConfig"), let clientIP = try config.object("clientIP") {
            sessionAffinityTimeout = try clientIP.decode(Int.self, "timeoutSeconds")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cluster, forKey: .cluster)
        try container.encode(name, forKey: .name)
        try container.encode(namespace, forKey: .namespace)
        if !annotations.isEmpty {
            try container.encode(annotations, forKey: .annotations)
            try container.encode(annotations, forKey: .legacyAnnotations)
        }
        if !labels.isEmpty {
            try container.encode(labels, forKey: .labels)
            try container.encode(labels, forKey: .legacyLabels)
        }
        try container.encode(exportCreationTimestamp, forKey: .exportCreationTimestamp)
        try container.encode(ports, forKey: .ports)
        try container.encode(type, forKey: .type)
        try container.encode(sessionAffinity, forKey: .sessionAffinity)
        if let sessionAffinityTimeout {
            try container.encode(["clientIP": ["timeoutSeconds": sessionAffinityTimeout]], forKey: .sessionAffinityConfig)
        }
    }
}

extension MCSAPIServiceSpec {
    /// The most ports one entry may list; a larger entry is skipped as invalid.
    public static let maximumPorts = 1000
    /// The most exported labels and annotations together.
    public static let maximumLabels = 1000

    /// This cluster's export of a service that has a ServiceExport, nil for any other; dated
    /// by its ServiceExport, else `createdText`.
    public static func export(_ service: LocalService, cluster: ClusterName, createdText: String) -> MCSAPIServiceSpec? {
        guard let export = service.spec.export else { return nil }
        let created = export.creationTimestamp ?? createdText
        let entry = ClusterSetExport(exporting: service.spec, cluster: cluster, createdAt: RFC3339Time.milliseconds(created) ?? 0, createdText: created)
        return MCSAPIServiceSpec(entry, name: service.spec.name)
    }

    /// The entry of `export` (one cluster's view of the service `name`).
    public init(_ export: ClusterSetExport, name: ServiceName) {
        self.init(
            cluster: export.cluster.rawValue, name: name.name, namespace: name.namespace, annotations: export.annotations, labels: export.labels,
            exportCreationTimestamp: export.createdText,
            ports: export.ports.map { Port(name: $0.name, protocol: $0.protocolName, appProtocol: $0.appProtocol, port: Int($0.port)) },
            type: export.type, sessionAffinity: export.sessionAffinity, sessionAffinityTimeout: export.sessionAffinityTimeout)
    }

    /// Decodes a value read under `key` from the store of `cluster` and checks it as Cilium
    /// does (cluster, namespace and name set and matching the key, a creation time, a known
    /// type and session affinity), and within bounds.
    public static func decodeValidated(_ value: [UInt8], key: String, cluster: ClusterName) throws(InvalidRemoteEntry) -> ClusterSetExport {
        func invalid(_ reason: String) -> InvalidRemoteEntry { InvalidRemoteEntry(key: key, reason: reason) }
        guard let parsedKey = KVStoreKeys.parseServiceExport(key) else {
            throw invalid("not a service export key: expected \(KVStoreKeys.serviceExportsRoot)/<cluster>/<namespace>/<name>")
        }
        let entry: MCSAPIServiceSpec
        do {
            entry = try JSONDecoder().decode(MCSAPIServiceSpec.self, from: Data(value))
        } catch {
            throw invalid("not an MCSAPIServiceSpec JSON value: \(ClusterService.describe(error))")
        }
        try ClusterService.checkIdentity(cluster: entry.cluster, namespace: entry.namespace, name: entry.name, key: parsedKey, readFrom: cluster, key: key)
        guard let created = RFC3339Time.milliseconds(entry.exportCreationTimestamp) else {
            throw invalid("exportCreationTimestamp '\(entry.exportCreationTimestamp.prefix(64))' is not an RFC 3339 time")
        }
        guard ["ClusterSetIP", "Headless"].contains(entry.type) else { throw invalid("type '\(entry.type.prefix(64))' is unknown: expected ClusterSetIP or Headless") }
        guard ["ClientIP", "None"].contains(entry.sessionAffinity) else {
            throw invalid("sessionAffinity '\(entry.sessionAffinity.prefix(64))' is unknown: expected ClientIP or None")
        }
        guard entry.labels.count + entry.annotations.count <= maximumLabels else {
            throw invalid("has \(entry.labels.count + entry.annotations.count) labels and annotations, more than the limit of \(maximumLabels)")
        }
        guard entry.ports.count <= maximumPorts else { throw invalid("lists \(entry.ports.count) ports, more than the limit of \(maximumPorts)") }
        if let timeout = entry.sessionAffinityTimeout, !(1...86400).contains(timeout) {
            throw invalid("sessionAffinityConfig.clientIP.timeoutSeconds \(timeout) is outside 1-86400")
        }
        var ports: [ClusterSetExport.Port] = []
        for port in entry.ports {
            guard port.port > 0 else { throw invalid("port '\(port.name.prefix(64))' has port 0") }
            ports.append(ClusterSetExport.Port(
                name: String(port.name.prefix(253)), protocolName: port.protocol.isEmpty ? "TCP" : String(port.protocol.prefix(16)),
                appProtocol: port.appProtocol.map { String($0.prefix(253)) }, port: UInt16(port.port)))
        }
        return ClusterSetExport(
            cluster: cluster, createdAt: created, createdText: entry.exportCreationTimestamp, ports: ports, type: entry.type,
            sessionAffinity: entry.sessionAffinity, sessionAffinityTimeout: entry.sessionAffinityTimeout,
            labels: entry.labels, annotations: entry.annotations)
    }
}
