import InterlinkCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A UDP backend for tests, DNS-like: each datagram is answered with `NAME:` and the datagram,
/// to the address it came from.
final class UDPEchoBackend: Sendable {
    let name: String
    let endpoint: SocketEndpoint
    private let channel: Channel
    let received = NIOLockedValueBox(0)

    init(name: String, at endpoint: SocketEndpoint) async throws {
        self.name = name
        self.endpoint = endpoint
        let received = self.received
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler(name: name, received: received)) }
            }
            .bind(host: endpoint.ip.description, port: Int(endpoint.port))
            .get()
    }

    /// Closes the socket: datagrams sent to it now get ICMP port unreachable.
    func stop() async {
        try? await channel.close()
    }
}

private final class UDPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let name: String
    let received: NIOLockedValueBox<Int>

    init(name: String, received: NIOLockedValueBox<Int>) {
        self.name = name
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        received.withLockedValue { $0 += 1 }
        var reply = context.channel.allocator.buffer(string: "\(name):")
        reply.writeImmutableBuffer(envelope.data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply)), promise: nil)
    }
}

/// A UDP client socket: one source address and port, so one flow through the proxy.
final class UDPTestClient: Sendable {
    private let channel: Channel
    private let replies: NIOLockedValueBox<[(from: SocketEndpoint?, text: String)]>

    init(bind ip: String = "127.0.0.1") async throws {
        let replies = NIOLockedValueBox<[(from: SocketEndpoint?, text: String)]>([])
        self.replies = replies
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPReplyCollector(replies: replies)) }
            }
            .bind(host: ip, port: 0)
            .get()
    }

    /// Sends `text` to `endpoint` and waits for one reply: who sent it (the frontend, for a
    /// proxied one) and what it says; nil if none came within `timeout`.
    /// A late answer to an earlier datagram (a slow backend on a loaded machine) is skipped:
    /// only one that ends with `:text` counts.
    func ask(_ text: String, to endpoint: SocketEndpoint, timeout: Duration = .seconds(10)) async throws -> (from: SocketEndpoint?, text: String)? {
        replies.withLockedValue { $0.removeAll() }
        let address = try SocketAddress(ipAddress: endpoint.ip.description, port: Int(endpoint.port))
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(string: text)))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let reply = replies.withLockedValue { replies -> (from: SocketEndpoint?, text: String)? in
                guard let index = replies.firstIndex(where: { $0.text == text || $0.text.hasSuffix(":\(text)") }) else { return nil }
                return replies.remove(at: index)
            }
            if let reply { return reply }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// The name of the backend that answered (`NAME:` prefix), or nil.
    func backend(answering text: String, via endpoint: SocketEndpoint, timeout: Duration = .seconds(10)) async throws -> String? {
        guard let reply = try await ask(text, to: endpoint, timeout: timeout), reply.text.hasSuffix(":\(text)") else { return nil }
        return String(reply.text.dropLast(text.count + 1))
    }

    func close() async {
        try? await channel.close()
    }
}

private final class UDPReplyCollector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let replies: NIOLockedValueBox<[(from: SocketEndpoint?, text: String)]>

    init(replies: NIOLockedValueBox<[(from: SocketEndpoint?, text: String)]>) {
        self.replies = replies
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let from = envelope.remoteAddress.ipAddress.flatMap { ip in envelope.remoteAddress.port.flatMap { SocketEndpoint(ip.contains(":") ? "[\(ip)]:\($0)" : "\(ip):\($0)") } }
        replies.withLockedValue { $0.append((from, String(buffer: envelope.data))) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
