import InterlinkCore
import NIOCore
import NIOPosix

/// A tiny backend for trying Interlink: it says who it is.
///
/// To HTTP (curl, wrk) it answers `200` with `backend=NAME cluster=CLUSTER` (keep-alive
/// honoured); to anything else (nc) it answers each line with `NAME: line`.
public final class DemoBackend: Sendable {
    public let name: String
    public let cluster: String
    private let channels: [Channel]

    private init(name: String, cluster: String, channels: [Channel]) {
        self.name = name
        self.cluster = cluster
        self.channels = channels
    }

    /// Listens on every address in `listen`.
    public static func start(name: String, cluster: String, listen: [SocketEndpoint], group: EventLoopGroup) async throws -> DemoBackend {
        var channels: [Channel] = []
        let body = "backend=\(name) cluster=\(cluster)\n"
        for endpoint in listen {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DemoBackendHandler(name: name, body: body))
                    }
                }
                .bind(host: endpoint.ip.description, port: Int(endpoint.port))
                .get()
            channels.append(channel)
        }
        return DemoBackend(name: name, cluster: cluster, channels: channels)
    }

    public var ports: [Int] { channels.compactMap { $0.localAddress?.port } }

    public func stop() async {
        for channel in channels { try? await channel.close() }
    }

    /// Until the listeners close.
    public func wait() async {
        for channel in channels { try? await channel.closeFuture.get() }
    }
}

final class DemoBackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String
    private let body: String
    private var pending: ByteBuffer?
    private var mode: Mode = .undecided

    enum Mode { case undecided, http, lines }

    init(name: String, body: String) {
        self.name = name
        self.body = body
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if pending == nil { pending = chunk } else { pending!.writeBuffer(&chunk) }
        if mode == .undecided, let received = pending {
            // Four bytes tell an HTTP method; a shorter first line is plain text.
            guard received.readableBytes >= 4 || received.readableBytesView.contains(10) else { return }
            let first = received.getString(at: received.readerIndex, length: min(4, received.readableBytes)) ?? ""
            mode = ["GET ", "HEAD", "POST", "PUT "].contains(first) ? .http : .lines
        }
        switch mode {
        case .http: answerRequests(context: context)
        case .lines: answerLines(context: context)
        case .undecided: break
        }
    }

    private func answerRequests(context: ChannelHandlerContext) {
        while var buffer = pending, let view = Optional(buffer.readableBytesView),
              let end = view.firstRange(of: [13, 10, 13, 10])
        {
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self).lowercased()
            buffer.moveReaderIndex(to: end.upperBound)
            pending = buffer
            let close = head.contains("\r\nconnection: close")
            var response = context.channel.allocator.buffer(capacity: 128 + body.utf8.count)
            response.writeString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nX-Backend: \(name)\r\n")
            response.writeString(close ? "Connection: close\r\n\r\n" : "\r\n")
            if !head.hasPrefix("head ") { response.writeString(body) }
            if close {
                context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
            context.write(wrapOutboundOut(response), promise: nil)
        }
    }

    private func answerLines(context: ChannelHandlerContext) {
        guard var buffer = pending else { return }
        while let line = buffer.readableBytesView.firstIndex(of: 10).map({ buffer.readString(length: $0 - buffer.readerIndex + 1)! }) {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(string: "\(name): \(line)")), promise: nil)
        }
        pending = buffer
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
