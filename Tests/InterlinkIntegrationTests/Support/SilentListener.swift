#if canImport(Glibc)
import Glibc
#endif
import InterlinkCore
import NIOCore
import NIOPosix
import Testing

/// A backend that never answers: a listening socket that never accepts, its accept queue
/// filled, so that the kernel drops every further SYN and a dial hangs until its timeout (what
/// a host behind a dropped path, or an overloaded one, does).
final class SilentListener: Sendable {
    let endpoint: SocketEndpoint
    private let descriptor: Int32
    private let fillers: [Channel]

    init(at endpoint: SocketEndpoint) async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        address.sin_addr = in_addr(s_addr: endpoint.ip.bytes.withUnsafeBytes { $0.load(as: UInt32.self) })
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 0) == 0 else {
            close(fd)
            throw IOError(errnoCode: errno, reason: "bind/listen \(endpoint)")
        }
        self.endpoint = endpoint
        self.descriptor = fd
        // Backlog 0 holds one connection; two more to be sure the queue is full.
        var fillers: [Channel] = []
        for _ in 0..<3 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.milliseconds(200))
                .connect(host: endpoint.ip.description, port: Int(endpoint.port)).get() { fillers.append(channel) }
        }
        self.fillers = fillers
    }

    /// A silent listener at `endpoint`; cancels the running test (reported as skipped, with the
    /// reason) where the kernel completes dials to a full accept queue.
    static func required(at endpoint: SocketEndpoint) async throws -> SilentListener {
        let silent = try await SilentListener(at: endpoint)
        guard await silent.swallowsDials() else {
            await silent.stop()
            try Test.cancel("this kernel completes dials to a full accept queue; no silent backend can be made here")
        }
        return silent
    }

    /// Whether a dial to it now hangs past `timeout` (the precondition of a test using it).
    func swallowsDials(within timeout: TimeAmount = .milliseconds(300)) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(timeout)
                .connect(host: endpoint.ip.description, port: Int(endpoint.port)).get()
            try? await channel.close()
            return false
        } catch ChannelError.connectTimeout {
            return true
        } catch {
            return false
        }
    }

    func stop() async {
        for channel in fillers { try? await channel.close() }
        close(descriptor)
    }
}

/// An HTTP backend whose health path can fail: it answers `GET /ready` with 500 and every other
/// path with 200, then closes.
final class HTTPStatusBackend: Sendable {
    let channel: Channel

    init(at endpoint: SocketEndpoint) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler()) }
            }
            .bind(host: endpoint.ip.description, port: Int(endpoint.port)).get()
    }

    func stop() async { try? await channel.close() }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var request = ""

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            request += buffer.readString(length: buffer.readableBytes) ?? ""
            guard request.contains("\r\n\r\n") else { return }
            let failing = request.hasPrefix("GET /ready ")
            let answer = failing ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
