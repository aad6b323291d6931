import InterlinkCore
import NIOCore
import NIOPosix

/// One client connection of the demo: connects to a frontend, asks `GET /`, and returns the
/// cluster named in the answer (`backend=NAME cluster=CLUSTER`).
enum DemoProbe {
    static func cluster(at frontend: SocketEndpoint, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> String {
        let promise = group.next().makePromise(of: String.self)
        let answer: String
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(2))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AnswerCollector(promise: promise))
                    }
                }
                .connect(host: frontend.ip.description, port: Int(frontend.port)).get()
            let request = "GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n"
            try await channel.writeAndFlush(ByteBuffer(string: request))
            answer = try await promise.futureResult.get()
        } catch {
            promise.fail(error)  // no-op if the handler already completed it
            throw error
        }
        guard let range = answer.range(of: "cluster=") else { throw DemoError("unexpected answer: \(answer.prefix(80))") }
        return String(answer[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" })
    }
}

/// Collects what the server sends until it closes; fails the promise on an error or an empty answer.
final class AnswerCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var text = ""
    private var done = false
    private let promise: EventLoopPromise<String>

    init(promise: EventLoopPromise<String>) {
        self.promise = promise
    }
}

extension AnswerCollector {
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        text += String(buffer: unwrapInboundIn(data))
        if text.contains("cluster=") && text.hasSuffix("\n") { finish(context, .success(text)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, text.contains("cluster=") ? .success(text) : .failure(DemoError("connection closed with no answer")))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(context, .failure(error))
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<String, Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
        context.close(promise: nil)
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
