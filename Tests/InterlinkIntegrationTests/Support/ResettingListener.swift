import InterlinkCore
import NIOCore
import NIOPosix

/// A backend whose process is dying: it accepts each connection and resets it at once
/// (SO_LINGER 0, then close), before sending anything, as the kernel resets the connections
/// still in the accept queue of a listener that closes.
final class ResettingListener: Sendable {
    let endpoint: SocketEndpoint
    private let channel: Channel

    init(at endpoint: SocketEndpoint) async throws {
        self.endpoint = endpoint
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard let options = channel as? SocketOptionProvider else { return channel.close() }
                return options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).flatMap { channel.close() }
            }
            .bind(host: endpoint.ip.description, port: Int(endpoint.port))
            .get()
    }

    func stop() async {
        try? await channel.close()
    }
}
