/// How the process's file descriptors are shared, so that no part can starve another: the
/// data plane (two descriptors per proxied connection), the API and mesh port (one per
/// connection), and a headroom for health checks, store clients, SQLite and logs.
///
/// With `ulimit -n` 256: headroom 32, API 32, mesh port 32, 80 proxied connections.
public struct FileDescriptorBudget: Hashable, Sendable {
    public let limit: Int
    public let headroom: Int
    public let apiConnections: Int
    public let meshConnections: Int
    public let proxyConnections: Int

    /// - Parameters: `limit` is `RLIMIT_NOFILE`; the API and mesh port take at most an eighth
    ///   of it each, and no more than their own maximum.
    public init(limit: Int, apiMaximum: Int, meshMaximum: Int) {
        let limit = max(limit, 64)
        self.limit = limit
        headroom = max(16, limit / 8)
        apiConnections = max(4, min(apiMaximum, limit / 8))
        meshConnections = max(4, min(meshMaximum, limit / 8))
        proxyConnections = max(1, (limit - headroom - apiConnections - meshConnections) / 2)
    }
}
