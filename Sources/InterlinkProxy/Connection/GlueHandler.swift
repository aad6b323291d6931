import NIOCore

/// One half of a proxied connection: forwards what its channel reads to its partner's channel.
///
/// Threading: both halves live on the same event loop (the backend is dialled on the client
/// channel's loop), so partners call each other directly. A half reads only while its
/// partner's channel is writable (backpressure); end-of-input is forwarded as a half-close
/// once the writes before it are flushed; a closed side closes its partner after its partner
/// has flushed what it still holds.
final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var closing = false
    /// Where the bytes this side reads are counted, once per read batch (no atomic per read).
    private let stats: BackendStats?
    private let readsFromClient: Bool
    private var unreportedBytes = 0
    /// The connection's idle clock, shared with the partner; the client side is the one the
    /// loop's `IdleSweep` follows.
    private var activity: IdleSweep.Activity?
    private let sweep: IdleSweep?

    init(stats: BackendStats?, readsFromClient: Bool, sweep: IdleSweep?) {
        self.stats = stats
        self.readsFromClient = readsFromClient
        self.sweep = sweep
    }

    /// The client-side half first, then the backend-side half; `sweep` closes the pair when
    /// idle.
    static func matchedPair(counting stats: BackendStats? = nil, sweep: IdleSweep? = nil) -> (GlueHandler, GlueHandler) {
        let first = GlueHandler(stats: stats, readsFromClient: true, sweep: sweep)
        let second = GlueHandler(stats: stats, readsFromClient: false, sweep: sweep)
        first.partner = second
        second.partner = first
        if let sweep {
            let activity = sweep.add(first)
            first.activity = activity
            second.activity = activity
        }
        return (first, second)
    }

    /// Idle both ways for the timeout: close (the partner follows).
    func closeIdle() {
        context?.close(promise: nil)
    }

    /// The client side leaves the sweep (once) when its channel or the handler goes.
    private func stopFollowing() {
        if readsFromClient, let sweep, let activity { sweep.remove(activity) }
        activity = nil
    }
}

extension GlueHandler {
    private var partnerIsWritable: Bool { partner?.context?.channel.isWritable ?? false }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    /// The partner's input ended: end our output once everything before it has been written.
    /// Writing an empty buffer gives a promise that completes after all earlier writes.
    private func partnerInputClosed() {
        guard let context, !closing else { return }
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
    }

    /// The partner's channel is gone: flush what we hold for our peer, then close.
    private func partnerClosed() {
        guard let context, !closing else { return }
        closing = true
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
        stopFollowing()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let activity, let sweep { activity.round = sweep.round }
        unreportedBytes += unwrapInboundIn(data).readableBytes
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reportBytes()
        partner?.partnerFlush()
    }

    private func reportBytes() {
        guard unreportedBytes > 0 else { return }
        stats?.addBytes(unreportedBytes, fromClient: readsFromClient)
        unreportedBytes = 0
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopFollowing()
        reportBytes()
        partner?.partnerClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            partner?.partnerInputClosed()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset or other I/O error: this side is finished; closing fires channelInactive,
        // which closes the partner after it has flushed.
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partnerIsWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
