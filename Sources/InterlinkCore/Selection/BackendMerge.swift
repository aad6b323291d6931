/// The backends of one port of a service in the mesh: local ones, then the backends that
/// connected clusters export for the same namespace/name. A remote backend at the same address
/// and port as a local one is dropped (the local one wins).
/// Whether remote backends may be used (only when the local service is global) is decided by
/// `selectBackends`, which also says why not.
public struct BackendMerge: Sendable {
    public var backends: [(backend: Backend, isLocal: Bool)]

    public init(local: [Backend], remote: [Backend]) {
        backends = local.map { ($0, true) }
        let localEndpoints = Set(local.map(\.endpoint))
        var seen: Set<SocketEndpoint> = []
        for backend in remote.sorted(by: { ($0.cluster, $0.endpoint) < ($1.cluster, $1.endpoint) }) {
            if !localEndpoints.contains(backend.endpoint), seen.insert(backend.endpoint).inserted {
                backends.append((backend, false))
            }
        }
    }
}
