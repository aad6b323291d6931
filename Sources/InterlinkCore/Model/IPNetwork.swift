/// An IP network in CIDR notation (`10.0.0.0/8`, `fd00::/64`), for allow and deny lists.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `ADDRESS/LENGTH`; a lone address is a network of that one address. Host bits
    /// must be zero (`10.0.0.1/8` is refused: it is almost always a typo).
    public init(_ text: String) throws(InvalidValue) {
        let allowed = "a network such as 10.0.0.0/8 or fd00::/64"
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { throw InvalidValue(text, allowed: allowed) }
        let maximum = address.bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard parts[1].count <= 3, let parsed = Int(parts[1]), (0...maximum).contains(parsed) else {
                throw InvalidValue(text, allowed: "\(allowed), with a prefix length of 0 to \(maximum)")
            }
            length = parsed
        }
        self.address = address
        self.prefixLength = length
        guard Self.masked(address.bytes, length) == address.bytes else {
            throw InvalidValue(text, allowed: "\(allowed) with no bits set past the prefix (\(IPAddress(bytes: Self.masked(address.bytes, length))!)/\(length))")
        }
    }

    /// Whether `ip` is in this network (an IPv4 network never contains an IPv6 address).
    public func contains(_ ip: IPAddress) -> Bool {
        ip.bytes.count == address.bytes.count && Self.masked(ip.bytes, prefixLength) == address.bytes
    }

    public var description: String { "\(address)/\(prefixLength)" }

    static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(8, max(0, length - index * 8))
            return bits == 8 ? byte : byte & ~(UInt8(0xff) >> bits)
        }
    }
}
