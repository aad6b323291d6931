/// The name of a cluster in the mesh.
///
/// Cilium's rule: at most 32 characters of `a-z`, `0-9` and `-`, starting and ending with a
/// letter or digit. The name is part of kvstore keys, so it is validated once, here.
public struct ClusterName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 32

    public init(_ rawValue: String) throws(InvalidValue) {
        guard !rawValue.isEmpty, rawValue.count <= Self.maximumLength else {
            throw InvalidValue(rawValue, allowed: "1 to \(Self.maximumLength) characters of a-z, 0-9 and '-'")
        }
        let bytes = Array(rawValue.utf8)
        let isNameByte: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard bytes.allSatisfy(isNameByte), bytes.first != 0x2D, bytes.last != 0x2D else {
            throw InvalidValue(rawValue, allowed: "lowercase letters, digits and '-', starting and ending with a letter or digit")
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: ClusterName, rhs: ClusterName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How many clusters a mesh may connect, as Cilium's `--max-connected-clusters`: 255 (the
/// default) or 511. It sets the cluster ID range, and every cluster of a mesh must use the same
/// value (Cilium packs the cluster ID into its security identities).
public struct MaxConnectedClusters: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public static let standard = MaxConnectedClusters(checked: 255)
    public static let extended = MaxConnectedClusters(checked: 511)

    public init(_ value: Int) throws(InvalidValue) {
        guard value == 255 || value == 511 else {
            throw InvalidValue(String(value), allowed: "255 or 511 (Cilium's --max-connected-clusters)")
        }
        rawValue = value
    }

    private init(checked value: Int) { rawValue = value }

    public var description: String { String(rawValue) }
}

/// The numeric ID of a cluster: 1 to 255 (1 to 511 in a mesh of 511 clusters), unique in the
/// mesh; 0 is reserved.
public struct ClusterID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(_ value: Int, maxConnectedClusters: MaxConnectedClusters = .standard) throws(InvalidValue) {
        let limit = maxConnectedClusters.rawValue
        guard value >= 1, value <= limit else {
            let extended = limit == 255 ? "; IDs up to 511 need --max-connected-clusters 511 on every cluster of the mesh" : ""
            throw InvalidValue(String(value), allowed: "a cluster ID from 1 to \(limit) (0 is reserved)\(extended)")
        }
        self.rawValue = UInt16(value)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: ClusterID, rhs: ClusterID) -> Bool { lhs.rawValue < rhs.rawValue }
}
