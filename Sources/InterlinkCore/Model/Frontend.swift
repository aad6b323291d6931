/// The transport of a Service port (`spec.ports[].protocol`).
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"

    public static func < (lhs: TransportProtocol, rhs: TransportProtocol) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a Service port is reached: its clusterIP, port and protocol. A TCP and a UDP port
/// may share an address and number (DNS does), so the protocol is part of the identity.
public struct Frontend: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var endpoint: SocketEndpoint
    public var transport: TransportProtocol

    public init(_ endpoint: SocketEndpoint, _ transport: TransportProtocol = .tcp) {
        self.endpoint = endpoint
        self.transport = transport
    }

    /// `IP:PORT` for TCP (as before UDP existed), `IP:PORT/UDP` for UDP.
    public var description: String {
        transport == .tcp ? endpoint.description : "\(endpoint)/\(transport.rawValue)"
    }

    public static func < (lhs: Frontend, rhs: Frontend) -> Bool {
        (lhs.endpoint, lhs.transport) < (rhs.endpoint, rhs.transport)
    }
}
