/// A service's identity: namespace and name. Global services match across clusters by it.
public struct ServiceName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (lhs: ServiceName, rhs: ServiceName) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}
