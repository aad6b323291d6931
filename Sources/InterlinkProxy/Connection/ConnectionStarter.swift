import InterlinkCore
import NIOCore

/// Starts the dial when a client connection becomes active, holds what the client sends
/// meanwhile (up to `holdLimit` bytes, then it stops reading), then glues the channels,
/// replays what it held and leaves the pipeline.
///
/// Client channels read from the start (no autoRead toggle: one registration change less per
/// connection); most clients send a small request, or nothing, before the backend answers.
final class ConnectionStarter: RemovableChannelHandler {
    static let holdLimit = 256 * 1024

    private let slot: RouteSlot
    private let dialer: BackendDialer
    private var held: [NIOAny] = []
    private var heldBytes = 0
    private var readSuppressed = false
    private var inputClosed = false

    init(slot: RouteSlot, dialer: BackendDialer) {
        self.slot = slot
        self.dialer = dialer
    }

    private func glue(context: ChannelHandlerContext, upstream: Channel, backend: RouteBackend) {
        let (clientSide, upstreamSide) = GlueHandler.matchedPair(counting: backend.stats)
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamSide)
            try context.pipeline.syncOperations.addHandler(clientSide, position: .after(self))
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        for data in held { context.fireChannelRead(data) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        held = []
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        let resumeReading = readSuppressed
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        if resumeReading { context.channel.read() }
    }
}

extension ConnectionStarter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny

    func channelActive(context: ChannelHandlerContext) {
        let route = slot.route
        let needsClient = route.algorithm == .maglev || route.affinity != nil
        let client = needsClient ? SocketEndpoint(context.channel.remoteAddress) : nil
        context.fireChannelActive()
        dialer.connect(client: context.channel, route: route, clientEndpoint: client) { [self] upstream, backend in
            glue(context: context, upstream: upstream, backend: backend)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heldBytes += unwrapInboundIn(data).readableBytes
        held.append(data)
    }

    func read(context: ChannelHandlerContext) {
        if heldBytes >= Self.holdLimit {
            readSuppressed = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
