/// A local service resolved from its manifests: each port with its frontend and backends.
public struct LocalService: Hashable, Sendable {
    public struct Port: Hashable, Sendable {
        public var port: ServicePort
        public var frontend: Frontend
        public var backends: [Backend]
    }

    public var spec: ServiceSpec
    public var ports: [Port]

    public init(spec: ServiceSpec, ports: [Port]) {
        self.spec = spec
        self.ports = ports
    }
}

extension ManifestSet {
    /// Every Service with, per port, the backends its EndpointSlices give, sorted by name. A
    /// Service with a ServiceExport is global and shared, its export attached.
    public func localServices(cluster: ClusterName) -> [LocalService] {
        services.map(\.value).sorted { $0.name < $1.name }.map { declared in
            var spec = declared
            if let export = export(of: spec.name) { spec.exported(by: export) }
            return LocalService(spec: spec, ports: spec.ports.map { port in
                LocalService.Port(
                    port: port, frontend: Frontend(SocketEndpoint(ip: spec.clusterIP, port: port.port), port.transport),
                    backends: backends(of: spec, port: port, cluster: cluster))
            })
        }
    }
}
