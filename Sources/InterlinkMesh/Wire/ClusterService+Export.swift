import InterlinkCore

extension ClusterService {
    /// What a cluster exports for one of its services: nil unless the service is global and
    /// shared. Only backends that take new connections here (active, or terminating and
    /// serving, and healthy per `isHealthy`) are listed, with every port they serve (TCP or UDP).
    public static func export(
        _ service: LocalService, cluster: ClusterName, clusterID: ClusterID, isHealthy: (SocketEndpoint) -> Bool
    ) -> ClusterService? {
        let spec = service.spec
        guard spec.isGlobal, spec.isShared else { return nil }
        var frontends: PortMap = [:]
        var backends: PortMap = [:]
        var hostnames: [String: String] = [:]
        var zones: [String: BackendZone] = [:]
        for port in service.ports {
            let transport = port.port.transport.rawValue
            frontends[spec.clusterIP.description, default: [:]][port.port.name] = PortAddress(proto: transport, port: port.port.port)
            for backend in port.backends where backend.state != .maintenance && isHealthy(backend.endpoint) {
                let ip = backend.endpoint.ip.description
                backends[ip, default: [:]][port.port.name] = PortAddress(proto: transport, port: backend.endpoint.port)
                if let hostname = backend.hostname { hostnames[ip] = hostname }
                if backend.zone != nil || !backend.forZones.isEmpty {
                    zones[ip] = BackendZone(zone: backend.zone ?? "", forZones: backend.forZones.map(BackendZone.ForZone.init))
                }
            }
        }
        return ClusterService(
            cluster: cluster.rawValue, namespace: spec.name.namespace, name: spec.name.name,
            frontends: frontends, backends: backends, hostnames: hostnames, zones: zones, labels: [:], selector: [:],
            includeExternal: true, shared: true, clusterID: UInt32(clusterID.rawValue))
    }
}
