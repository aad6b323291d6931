/// A request the embedded store refuses, with the gRPC code etcd would answer so that the JSON
/// gateway reports it the same way.
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case compacted(compactRevision: Int64)
    case futureRevision(requested: Int64, current: Int64)
    case leaseNotFound(Int64)
    case invalid(String)
    case readOnly(String)
    /// A key outside what peers may address (`PeerKeyScope`).
    case permissionDenied
    case closed

    /// etcd's gRPC status code for the same error.
    public var grpcCode: Int {
        switch self {
        case .compacted, .futureRevision: 11  // OUT_OF_RANGE
        case .leaseNotFound: 5  // NOT_FOUND
        case .invalid: 3  // INVALID_ARGUMENT
        case .readOnly, .permissionDenied: 7  // PERMISSION_DENIED
        case .closed: 14  // UNAVAILABLE
        }
    }

    public var description: String {
        switch self {
        case .compacted: "etcdserver: mvcc: required revision has been compacted"
        case .futureRevision: "etcdserver: mvcc: required revision is a future revision"
        case .leaseNotFound: "etcdserver: requested lease not found"
        case .invalid(let detail): "etcdserver: \(detail)"
        case .readOnly(let detail): detail
        case .permissionDenied: "etcdserver: permission denied"
        case .closed: "etcdserver: the embedded store is shutting down"
        }
    }
}
