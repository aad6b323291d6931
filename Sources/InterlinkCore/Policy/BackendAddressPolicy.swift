/// Which backend addresses the agent may dial, and why not: a pure check run on every backend
/// before selection, so that a manifest or a remote cluster cannot make the agent reach what
/// it must not.
///
/// Always refused: the unspecified address (0.0.0.0, ::, which reach this host's own
/// services), broadcast, multicast, and the agent's own listeners (frontends, API, mesh port),
/// which would expose the API through a frontend or loop a connection back into the agent.
/// A listener on the unspecified address also owns its port on every loopback address and on
/// every address of this host (`hostAddresses`).
/// Remote backends must also be in `allowedRemote` (when it is not empty) and outside
/// `deniedRemote`.
public struct BackendAddressPolicy: Hashable, Sendable {
    /// The agent's own listeners with what they are (`the API`, `the frontend of default/echo`).
    public var ownListeners: [SocketEndpoint: String] = [:]
    public var allowedRemote: [IPNetwork] = []
    public var deniedRemote: [IPNetwork] = []
    /// This host's interface addresses (read once at start by the agent).
    public var hostAddresses: Set<IPAddress> = []

    public init(
        ownListeners: [SocketEndpoint: String] = [:], allowedRemote: [IPNetwork] = [], deniedRemote: [IPNetwork] = [],
        hostAddresses: Set<IPAddress> = []
    ) {
        self.ownListeners = ownListeners
        self.hostAddresses = hostAddresses
        self.allowedRemote = allowedRemote
        self.deniedRemote = deniedRemote
    }

    /// 0.0.0.0 and ::, parsed once (refusal runs for every backend of every route build).
    static let unspecified = [IPAddress(bytes: [0, 0, 0, 0])!, IPAddress(bytes: [UInt8](repeating: 0, count: 16))!]

    /// Nil when `endpoint` may be dialled; otherwise why not, for `services` and `explain`.
    public func refusal(_ endpoint: SocketEndpoint, isLocal: Bool) -> String? {
        let ip = endpoint.ip.unmappedIPv4 ?? endpoint.ip
        if ip.isUnspecified { return "\(endpoint.ip) is the unspecified address, which reaches this host's own services" }
        if ip.isBroadcast { return "\(endpoint.ip) is the broadcast address" }
        if ip.isMulticast { return "\(endpoint.ip) is a multicast address" }
        let target = SocketEndpoint(ip: ip, port: endpoint.port)
        if let owner = ownListeners[target] { return "\(endpoint) is \(owner) of this agent" }
        if ip.isLoopback || hostAddresses.contains(ip) {
            for family in Self.unspecified {
                if let owner = ownListeners[SocketEndpoint(ip: family, port: endpoint.port)] {
                    return "\(endpoint) reaches \(owner) of this agent (it listens on \(family) port \(endpoint.port))"
                }
            }
        }
        guard !isLocal else { return nil }
        if let network = deniedRemote.first(where: { $0.contains(ip) }) {
            return "\(endpoint.ip) is in \(network), which --backend-denied-cidrs refuses"
        }
        if !allowedRemote.isEmpty, !allowedRemote.contains(where: { $0.contains(ip) }) {
            return "\(endpoint.ip) is outside --backend-allowed-cidrs (\(allowedRemote.map(\.description).joined(separator: ",")))"
        }
        return nil
    }
}

extension IPAddress {
    /// 255.255.255.255.
    public var isBroadcast: Bool { bytes.count == 4 && bytes.allSatisfy { $0 == 0xff } }
    /// 224.0.0.0/4 or ff00::/8.
    public var isMulticast: Bool { bytes.count == 4 ? bytes[0] & 0xf0 == 0xe0 : bytes[0] == 0xff }
    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool { bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }
    /// The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
    public var unmappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return IPAddress(bytes: Array(bytes.suffix(4)))
    }
}
