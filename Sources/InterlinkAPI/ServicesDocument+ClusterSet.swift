import InterlinkCore

extension ServicesDocument {
    /// An exported service as the cluster set sees it (MCS-API, KEP-1645): what every
    /// cluster's ServiceImport holds, and whether the exports conflict.
    public struct ClusterSet: Codable, Sendable {
        public struct Port: Codable, Sendable {
            public var name: String?
            public var `protocol`: String
            public var appProtocol: String?
            public var port: Int
        }

        public struct Condition: Codable, Sendable {
            public var type: String
            public var status: String
            public var reason: String
            public var message: String
        }

        /// This cluster's export time (RFC 3339): the oldest export wins a conflict.
        public var exportCreationTimestamp: String
        public var type: String
        public var ports: [Port]
        public var sessionAffinity: String
        public var sessionAffinityTimeoutSeconds: Int?
        /// The exporting clusters, by name.
        public var clusters: [String]
        /// The cluster whose export is the oldest: its definitions win a conflict.
        public var oldestCluster: String
        /// `Conflict`: `True` when the clusters' exports disagree (the oldest one's wins).
        public var conditions: [Condition]

        public init(exportCreationTimestamp: String, view: ServiceImportView) {
            self.exportCreationTimestamp = exportCreationTimestamp
            type = view.type
            ports = view.ports.map { Port(name: $0.name.isEmpty ? nil : $0.name, protocol: $0.protocolName, appProtocol: $0.appProtocol, port: Int($0.port)) }
            sessionAffinity = view.sessionAffinity
            sessionAffinityTimeoutSeconds = view.sessionAffinityTimeout
            clusters = view.clusters.map(\.rawValue)
            oldestCluster = view.oldestCluster.rawValue
            conditions = view.conditions.map { Condition(type: $0.type, status: $0.status, reason: $0.reason, message: $0.message) }
        }

        /// The `Conflict` condition, if the exports disagree.
        public var conflict: Condition? {
            conditions.first { $0.type == "Conflict" && $0.status == "True" }
        }
    }
}

/// A `multicluster.x-k8s.io/v1beta1` ServiceImport, as `interlink services NS/NAME -o yaml`
/// prints an exported service: what a user of the MCS-API expects to see.
public struct ServiceImportObject: Codable, Sendable {
    public struct Metadata: Codable, Sendable {
        public var name: String
        public var namespace: String
    }

    public struct Spec: Codable, Sendable {
        public struct SessionAffinityConfig: Codable, Sendable {
            public struct ClientIP: Codable, Sendable { public var timeoutSeconds: Int }
            public var clientIP: ClientIP
        }

        /// The address this cluster serves the service on.
        public var ips: [String]
        public var type: String
        public var ports: [ServicesDocument.ClusterSet.Port]
        public var sessionAffinity: String
        public var sessionAffinityConfig: SessionAffinityConfig?
    }

    public struct Status: Codable, Sendable {
        public struct Cluster: Codable, Sendable { public var cluster: String }
        public var clusters: [Cluster]
        public var conditions: [ServicesDocument.ClusterSet.Condition]
    }

    public var apiVersion = "multicluster.x-k8s.io/v1beta1"
    public var kind = "ServiceImport"
    public var metadata: Metadata
    public var spec: Spec
    public var status: Status

    public init(service: ServicesDocument.Service, clusterSet: ServicesDocument.ClusterSet) {
        metadata = Metadata(name: service.name, namespace: service.namespace)
        spec = Spec(
            ips: [service.clusterIP], type: clusterSet.type, ports: clusterSet.ports, sessionAffinity: clusterSet.sessionAffinity,
            sessionAffinityConfig: clusterSet.sessionAffinityTimeoutSeconds.map { .init(clientIP: .init(timeoutSeconds: $0)) })
        status = Status(clusters: clusterSet.clusters.map(Status.Cluster.init), conditions: clusterSet.conditions)
    }
}
