import InterlinkCore

/// A service exported by a remote cluster, validated: what the merge uses.
public struct RemoteService: Hashable, Sendable {
    public var cluster: ClusterName
    public var name: ServiceName
    public var isGlobal: Bool
    public var isShared: Bool
    /// Port name → backends on that port (TCP only; other protocols are left out).
    public var backends: [String: [Backend]]
}

/// Why a remote entry was skipped. Counted and reported; never fatal.
public struct InvalidRemoteEntry: Error, Hashable, Sendable, CustomStringConvertible {
    public let key: String
    public let reason: String

    public var description: String { "\(key): \(reason)" }
}
