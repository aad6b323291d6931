import InterlinkCore

/// A backend of a service: the unit of health and connection accounting.
public struct BackendKey: Hashable, Sendable, CustomStringConvertible {
    public var service: ServiceName
    public var endpoint: SocketEndpoint

    public init(service: ServiceName, endpoint: SocketEndpoint) {
        self.service = service
        self.endpoint = endpoint
    }

    public var description: String { "\(service) \(endpoint)" }
}
