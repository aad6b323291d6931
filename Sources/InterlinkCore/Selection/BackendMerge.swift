/// The backends of one port of a service in the mesh: local ones, then the backends that
/// connected clusters export for the same namespace/name. A remote backend at the same address
/// and port as a local one is dropped (the local one wins) and reported in `shadowed`.
/// Whether remote backends may be used (only when the local service is global) is decided by
/// `selectBackends`, which also says why not.
public struct BackendMerge: Sendable {
    public var backends: [(backend: Backend, isLocal: Bool)]
    public var shadowed: [Backend]

    public init(local: [Backend], remote: [Backend]) {
        backends = local.map { ($0, true) }
        shadowed = []
        let localEndpoints = Set(local.map(\.endpoint))
        var seen: Set<SocketEndpoint> = []
        for backend in remote.sorted(by: { ($0.cluster, $0.endpoint) < ($1.cluster, $1.endpoint) }) {
            if localEndpoints.contains(backend.endpoint) {
                shadowed.append(backend)
            } else if seen.insert(backend.endpoint).inserted {
                backends.append((backend, false))
            }
        }
    }
}
