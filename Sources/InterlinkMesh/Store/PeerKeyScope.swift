/// The keys that peers reaching the mesh port may address.
///
/// Peers see only what the mesh needs: keys under `cilium/` (Cluster Mesh's layout). With
/// `--mesh-allow-writes` (tests and benchmarks) any key but the agent's own (`interlink/`:
/// saved live changes) is served. A request that reaches past its scope is refused whole with
/// etcd's `permission denied`; nothing outside the scope is read, written or watched.
public struct PeerKeyScope: Hashable, Sendable {
    public static let meshPrefix = "cilium/"
    public static let agentPrefix = "interlink/"

    public let allowWrites: Bool

    public init(allowWrites: Bool) {
        self.allowWrites = allowWrites
    }

    /// Throws `permissionDenied` unless every key of `range` is in scope.
    public func check(_ range: KeyRange) throws(StoreError) {
        let allowed = allowWrites ? !range.overlaps(prefix: Self.agentPrefix) : range.isWithin(prefix: Self.meshPrefix)
        guard allowed else { throw StoreError.permissionDenied }
    }

    public func check(key: [UInt8]) throws(StoreError) {
        try check(KeyRange(key: key))
    }

    /// Whether a peer may see `key` (lease key lists are filtered with it).
    public func isVisible(_ key: String) -> Bool {
        (try? check(key: Array(key.utf8))) != nil
    }
}

extension KeyRange {
    /// Every key of the range starts with `prefix`.
    func isWithin(prefix: String) -> Bool {
        let start = Array(prefix.utf8)
        guard key.starts(with: start) else { return false }
        if end.isEmpty { return true }
        let limit = prefixRangeEnd(prefix)
        return end != [0] && !limit.lexicographicallyPrecedes(end)
    }

    /// Some key of the range may start with `prefix`.
    func overlaps(prefix: String) -> Bool {
        let start = Array(prefix.utf8)
        if end.isEmpty { return key.starts(with: start) }
        let limit = prefixRangeEnd(prefix)
        return key.lexicographicallyPrecedes(limit) && (end == [0] || start.lexicographicallyPrecedes(end))
    }
}
