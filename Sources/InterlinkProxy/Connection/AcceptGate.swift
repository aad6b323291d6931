import Atomics
import Logging
import NIOCore

/// On a frontend's listening channel: stops accepting while the data plane holds its
/// connection limit (new clients wait in the listen backlog, holding no descriptor here), and
/// logs failed accepts at most once a second with their errno. NIO's own accept back-off then
/// pauses the listener for a moment.
///
/// Threading: runs on the listening channel's event loop; the open-connection count is shared.
final class AcceptGate: ChannelDuplexHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never
    typealias OutboundOut = Never

    static let recheck = TimeAmount.milliseconds(20)

    private let open: ManagedAtomic<Int>
    private let limit: Int
    private let logger: Logger
    private var lastLogged: NIODeadline?
    private var suppressed = 0
    private var waiting = false

    init(open: ManagedAtomic<Int>, limit: Int, logger: Logger) {
        self.open = open
        self.limit = limit
        self.logger = logger
    }

    func read(context: ChannelHandlerContext) {
        guard open.load(ordering: .relaxed) >= limit else {
            context.read()
            return
        }
        if !waiting {
            waiting = true
            logger.warning("connection limit reached; new connections wait in the listen backlog", metadata: ["limit": "\(limit)"])
        }
        // Polled only while full: a closing connection anywhere frees a place for any listener.
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.recheck) {
            let (gate, context) = loopBound.value
            gate.waiting = gate.open.load(ordering: .relaxed) >= gate.limit
            gate.read(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let now = NIODeadline.now()
        if let lastLogged, now - lastLogged < .seconds(1) {
            suppressed += 1
        } else {
            var metadata: Logger.Metadata = ["error": "\(networkErrorText(error))"]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.error("accepting a connection failed", metadata: metadata)
            lastLogged = now
            suppressed = 0
        }
        context.fireErrorCaught(error)
    }
}
