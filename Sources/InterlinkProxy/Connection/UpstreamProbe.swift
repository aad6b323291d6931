import NIOCore

/// Watches a backend connection that neither side has used yet: its first byte confirms it;
/// a reset or close before any byte (a backend that died with the connection still in its
/// accept queue) is reported so that the connection can be retried on another backend, since
/// nothing has reached the client or the backend yet.
///
/// Threading: on the upstream channel's event loop, which is the client's.
final class UpstreamProbe: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// How the backend connection ended before its first byte.
    enum Ending {
        /// A reset or another error: the backend is failing.
        case failed(String)
        /// An orderly close: not necessarily a failing backend.
        case closed
    }

    private var onFirstByte: (() -> Void)?
    private var onEnd: ((Ending) -> Void)?

    init(onFirstByte: @escaping () -> Void, onEnd: @escaping (Ending) -> Void) {
        self.onFirstByte = onFirstByte
        self.onEnd = onEnd
    }

    /// Stops reporting (the connection was confirmed from the client side, or abandoned).
    func disarm() {
        onFirstByte = nil
        onEnd = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let confirm = onFirstByte
        disarm()
        confirm?()  // glues the connection: the glue handler now follows this one
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        end(.failed(networkErrorText(error)))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(.closed)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            end(.closed)
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func end(_ ending: Ending) {
        let report = onEnd
        disarm()
        report?(ending)
    }
}
