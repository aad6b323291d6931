/// A value that does not fit its field: what it was and what is allowed instead.
///
/// The field path and file are added by whoever knows them (the manifest parser, the CLI).
public struct InvalidValue: Error, Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public let allowed: String

    public init(_ value: String, allowed: String) {
        self.value = value
        self.allowed = allowed
    }

    /// "`value` is not allowed: expected …", phrased for a user.
    public var description: String { "\(value.isEmpty ? "(empty)" : value) is not valid: expected \(allowed)" }
}
