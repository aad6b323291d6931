/// A kvstore request that did not succeed: what, against which endpoint, and why.
public enum KVStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No endpoint could be reached.
    case unreachable(endpoints: [String], lastError: String)
    /// The store answered with an error (its gRPC status code and etcd's message).
    case server(endpoint: String, status: Int, message: String)
    /// The answer could not be understood.
    case badResponse(endpoint: String, detail: String)
    /// A watch was cancelled because its start revision was compacted away: re-list.
    case compacted(compactRevision: Int64)
    /// The client cannot be set up as configured (an endpoint URL, a TLS file).
    case configuration(String)

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let lastError):
            "kvstore unreachable at \(endpoints.joined(separator: ", ")): \(lastError)"
        case .server(let endpoint, let status, let message):
            "kvstore \(endpoint) answered: \(message) (gRPC status \(status))"
        case .badResponse(let endpoint, let detail):
            "kvstore \(endpoint) sent an answer that is not etcd's: \(detail)"
        case .configuration(let detail):
            "kvstore client: \(detail)"
        case .compacted(let revision):
            "watch start revision was compacted (now \(revision)): re-list and watch again"
        }
    }
}
