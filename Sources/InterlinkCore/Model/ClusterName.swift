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

/// The numeric ID of a cluster: 1 to 255, unique in the mesh; 0 is reserved.
public struct ClusterID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(_ value: Int) throws(InvalidValue) {
        guard value >= 1, value <= 255 else {
            throw InvalidValue(String(value), allowed: "a cluster ID from 1 to 255 (0 is reserved)")
        }
        self.rawValue = UInt8(value)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: ClusterID, rhs: ClusterID) -> Bool { lhs.rawValue < rhs.rawValue }
}
