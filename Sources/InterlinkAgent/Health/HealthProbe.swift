import InterlinkCore
import InterlinkProxy
import NIOCore
import NIOPosix

/// One active check of one backend: a TCP connect, or an HTTP/1.1 GET answered 2xx/3xx.
enum HealthProbe {
    enum Outcome: Equatable {
        case passed
        case failed(String)
        /// The check could not be made here (out of descriptors): it says nothing of the backend.
        case notRun(String)
    }

    static func run(_ kind: HealthCheckSpec.Kind, endpoint: SocketEndpoint, timeout: Duration, group: EventLoopGroup) async -> Outcome {
        do {
            guard let failure = try await check(kind, endpoint: endpoint, timeout: timeout, group: group) else { return .passed }
            return .failed(failure)
        } catch {
            return .notRun(networkErrorText(error))
        }
    }

    /// nil when the backend passed; otherwise why it failed. Throws when this process is out of
    /// resources.
    private static func check(_ kind: HealthCheckSpec.Kind, endpoint: SocketEndpoint, timeout: Duration, group: EventLoopGroup) async throws -> String? {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount.nanoseconds(timeout.nanoseconds))
        switch kind {
        case .none:
            return nil
        case .tcp:
            do {
                let channel = try await bootstrap.connect(host: endpoint.ip.description, port: Int(endpoint.port)).get()
                try? await channel.close()
                return nil
            } catch {
                if isLocalExhaustion(error) { throw error }
                return "TCP connect failed: \(networkErrorText(error))"
            }
        case .http(let path):
            return try await http(path: path, endpoint: endpoint, timeout: timeout, bootstrap: bootstrap)
        }
    }

    private static func http(path: String, endpoint: SocketEndpoint, timeout: Duration, bootstrap: ClientBootstrap) async throws -> String? {
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.ip.description, port: Int(endpoint.port)).get()
        } catch {
            if isLocalExhaustion(error) { throw error }
            return "TCP connect failed: \(networkErrorText(error))"
        }
        defer { channel.close(promise: nil) }
        let statusLine: String
        do {
            statusLine = try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<String> in
                let promise = channel.eventLoop.makePromise(of: String.self)
                let reader = StatusLineReader(promise: promise)
                do {
                    try channel.pipeline.syncOperations.addHandler(reader)
                } catch {
                    promise.fail(error)
                    return promise.futureResult
                }
                let timer = channel.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                    reader.fail(HealthProbeError.timedOut)
                }
                promise.futureResult.whenComplete { _ in timer.cancel() }
                let host = endpoint.ip.family == .ipv6 ? "[\(endpoint.ip)]" : endpoint.ip.description
                let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(endpoint.port)\r\nUser-Agent: interlink-health-check\r\nConnection: close\r\n\r\n"
                channel.writeAndFlush(channel.allocator.buffer(string: request), promise: nil)
                return promise.futureResult
            }.get()
        } catch {
            return "HTTP GET \(path) failed: \(networkErrorText(error))"
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
            return "HTTP GET \(path): not an HTTP response: \(statusLine.prefix(80))"
        }
        guard (200..<400).contains(code) else {
            return "HTTP GET \(path) answered \(code)"
        }
        return nil
    }
}

enum HealthProbeError: Error, CustomStringConvertible {
    case timedOut
    case closedEarly

    var description: String {
        switch self {
        case .timedOut: "timed out"
        case .closedEarly: "connection closed before a status line"
        }
    }
}

/// Collects bytes until the first CRLF and completes the promise with that line.
final class StatusLineReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<String>
    private var received: ByteBuffer?
    private var done = false

    init(promise: EventLoopPromise<String>) {
        self.promise = promise
    }

    func fail(_ error: Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        guard !done else { return }
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        guard let view = received?.readableBytesView, let end = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if (received?.readableBytes ?? 0) > 4096 { fail(HealthProbeError.closedEarly) }
            return
        }
        done = true
        promise.succeed(String(decoding: view[view.startIndex..<end], as: UTF8.self))
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HealthProbeError.closedEarly)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error)
        context.close(promise: nil)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
