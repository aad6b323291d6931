import InterlinkCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A backend that, on each connection, sends `total` bytes of a fixed pattern as fast as the
/// connection takes them (only while its channel is writable: it buffers nothing itself), then
/// closes. `written` says how far it got: when a client does not read, it stops where the
/// buffers between them are full.
final class StreamingBackend: Sendable {
    static let pattern: [UInt8] = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    let endpoint: SocketEndpoint
    let total: Int
    private let channel: Channel
    private let writtenBox: NIOLockedValueBox<Int>

    var written: Int { writtenBox.withLockedValue { $0 } }

    /// The hash of the whole stream, as a client that read all of it computes it.
    var expectedHash: StreamHash {
        var hash = StreamHash()
        var left = total
        while left > 0 {
            let count = min(left, Self.pattern.count)
            Self.pattern.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            left -= count
        }
        return hash
    }

    init(at endpoint: SocketEndpoint, total: Int) async throws {
        let written = NIOLockedValueBox(0)
        self.writtenBox = written
        self.total = total
        self.endpoint = endpoint
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamingHandler(total: total, written: written))
                }
            }
            .bind(host: endpoint.ip.description, port: Int(endpoint.port))
            .get()
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class StreamingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let total: Int
    private let written: NIOLockedValueBox<Int>
    private var sent = 0
    private var finished = false

    init(total: Int, written: NIOLockedValueBox<Int>) {
        self.total = total
        self.written = written
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        send(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func send(context: ChannelHandlerContext) {
        while context.channel.isWritable, sent < total {
            let count = min(total - sent, StreamingBackend.pattern.count)
            let buffer = context.channel.allocator.buffer(bytes: StreamingBackend.pattern[..<count])
            sent += count
            let written = self.written
            context.writeAndFlush(wrapOutboundOut(buffer)).whenSuccess { written.withLockedValue { $0 += count } }
        }
        if sent >= total, !finished {
            finished = true
            let done = context.channel.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: done)
            done.futureResult.whenComplete { _ in context.close(promise: nil) }
        }
    }
}
