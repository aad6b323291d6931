import InterlinkProxy

/// The per-backend counters the routes and the API share.
extension Reconciler {
    func statsFor(_ key: BackendKey) -> BackendStats? { stats[key] }

    /// Drops the counters of backends that no service has any more, local or remote (after
    /// `apply`/`delete` and a disconnected cluster: rare events, so the whole walk is fine).
    /// Open connections keep their counters object; a backend that comes back starts at 0.
    func pruneStats() {
        var kept: Set<BackendKey> = []
        for service in services {
            for port in service.ports {
                for backend in port.backends + remoteBackends(of: service, port: port) {
                    kept.insert(BackendKey(service: service.spec.name, endpoint: backend.endpoint))
                }
            }
        }
        for key in stats.keys where !kept.contains(key) { stats[key] = nil }
    }
}
