import InterlinkCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real TCP backend for tests. On connect it sends `NAME\n`; it echoes what it reads; when
/// the client half-closes it sends `bye NAME COUNT HASH\n` (bytes and FNV hash of all it
/// received) and closes.
final class TestBackend: Sendable {
    let name: String
    let endpoint: SocketEndpoint
    private let channel: NIOLockedValueBox<Channel?>
    private let group: EventLoopGroup
    let accepted = NIOLockedValueBox(0)

    private init(name: String, endpoint: SocketEndpoint, group: EventLoopGroup) {
        self.name = name
        self.endpoint = endpoint
        self.group = group
        self.channel = NIOLockedValueBox(nil)
    }

    static func start(name: String, at endpoint: SocketEndpoint, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> TestBackend {
        let backend = TestBackend(name: name, endpoint: endpoint, group: group)
        try await backend.start()
        return backend
    }

    func start() async throws {
        let name = self.name
        let accepted = self.accepted
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 2048)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TestBackendHandler(name: name))
                }
            }
            .bind(host: endpoint.ip.description, port: Int(endpoint.port))
            .get()
        channel.withLockedValue { $0 = server }
    }

    /// Closes the listener: new connections are refused (existing ones go on).
    func stop() async {
        let server = channel.withLockedValue { current -> Channel? in
            defer { current = nil }
            return current
        }
        try? await server?.close()
    }
}

final class TestBackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String
    private var hash = StreamHash()

    init(name: String) {
        self.name = name
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "\(name)\n")), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        hash.update(buffer)
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            let trailer = "bye \(name) \(hash.count) \(hash.value)\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: trailer))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
