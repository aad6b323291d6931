import InterlinkCore
import NIOCore
import NIOPosix

/// What a test client received on one connection.
struct Exchange {
    var firstLine: String
    var hash: StreamHash
    /// The last 200 bytes, to read the backend's trailer.
    var tail: String
}

/// A real TCP client for tests, built on NIO so that many can run at once.
enum TestClient {
    /// Connects, sends `payload` (if any), half-closes when `halfClose`, and reads until the
    /// server closes. Received bytes are hashed, not kept.
    static func exchange(
        with endpoint: SocketEndpoint, payload: ByteBuffer? = nil, halfClose: Bool = true,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Exchange {
        let promise = group.next().makePromise(of: Exchange.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                    }
                }
                .connect(host: endpoint.ip.description, port: Int(endpoint.port))
                .get()
        } catch {
            promise.fail(error)  // a promise must be completed, even when the connection never was
            throw error
        }
        if let payload {
            channel.writeAndFlush(payload, promise: nil)
        }
        if halfClose {
            // The server may have closed the connection already (a proxy with no backend for
            // it): that is its answer, read below, not a client error.
            try? await channel.close(mode: .output)
        }
        return try await promise.futureResult.get()
    }

    /// A connection the server (the proxy) closed without sending anything: the way a proxied
    /// connection fails when no backend takes it, so a failure wherever it is counted.
    struct NoAnswer: Error, CustomStringConvertible {
        let endpoint: SocketEndpoint
        var description: String { "\(endpoint) closed the connection without an answer" }
    }

    /// Connects and returns the first line the server sends; closes the connection. Throws
    /// `NoAnswer` when the server closes without sending anything.
    static func firstLine(from endpoint: SocketEndpoint) async throws -> String {
        let line = try await exchange(with: endpoint).firstLine
        guard !line.isEmpty else { throw NoAnswer(endpoint: endpoint) }
        return line
    }

    /// Connects (from `source` when given) and keeps the connection open; the caller drives it.
    static func open(
        _ endpoint: SocketEndpoint, from source: SocketAddress? = nil, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> OpenConnection {
        let lines = LineCollector()
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(lines) }
            }
        if let source { bootstrap = bootstrap.bind(to: source) }
        let channel = try await bootstrap.connect(host: endpoint.ip.description, port: Int(endpoint.port)).get()
        return OpenConnection(channel: channel, lines: lines)
    }

    /// Connects and reads nothing until the caller turns `autoRead` on; then everything the
    /// server sends until it closes is hashed into the returned future's exchange.
    static func openPaused(
        _ endpoint: SocketEndpoint, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (Channel, EventLoopFuture<Exchange>) {
        let promise = group.next().makePromise(of: Exchange.self)
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(.autoRead, value: false)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(promise: promise)) }
                }
                .connect(host: endpoint.ip.description, port: Int(endpoint.port))
                .get()
            return (channel, promise.futureResult)
        } catch {
            promise.fail(error)
            throw error
        }
    }
}

struct OpenConnection: Sendable {
    let channel: Channel
    let lines: LineCollector

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: text))
    }

    /// Waits for the next line, up to `timeout`.
    func nextLine(timeout: Duration = .seconds(5)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = try await channel.eventLoop.submit({ lines.popLine() }).get() { return line }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func close() async {
        try? await channel.close()
    }
}

final class LineCollector: ChannelInboundHandler, @unchecked Sendable {
    // Touched only on the channel's event loop.
    typealias InboundIn = ByteBuffer
    private var buffer = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer += String(buffer: unwrapInboundIn(data))
    }

    func popLine() -> String? {
        guard let end = buffer.firstIndex(of: "\n") else { return nil }
        let line = String(buffer[..<end])
        buffer = String(buffer[buffer.index(after: end)...])
        return line
    }
}

final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Exchange>
    private var hash = StreamHash()
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<Exchange>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        hash.update(buffer)
        if head.count < 200, let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(200 - head.count, buffer.readableBytes)) {
            head += bytes
        }
        let tailLength = min(200, buffer.readableBytes)
        tail += buffer.getBytes(at: buffer.writerIndex - tailLength, length: tailLength) ?? []
        if tail.count > 200 { tail.removeFirst(tail.count - 200) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            finish()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
        context.close(promise: nil)
    }

    private func finish() {
        guard !done else { return }
        done = true
        let text = String(decoding: head, as: UTF8.self)
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        promise.succeed(Exchange(firstLine: firstLine, hash: hash, tail: String(decoding: tail, as: UTF8.self)))
    }
}
