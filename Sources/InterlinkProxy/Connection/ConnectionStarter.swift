import InterlinkCore
import NIOCore

/// Starts the dial when a client connection becomes active, holds what the client sends
/// meanwhile (up to `holdLimit` bytes, then it stops reading), then glues the channels,
/// replays what it held and leaves the pipeline.
///
/// When neither side has sent a byte once the backend connection is up, the first byte either
/// way (or `probeWindow` passing) confirms it before the glue: a backend connection that is
/// reset or closed before that is given up and the next backend dialled, since nothing has
/// reached either side (`UpstreamProbe`).
///
/// Client channels read from the start (no autoRead toggle: one registration change less per
/// connection); most clients send a small request, or nothing, before the backend answers.
final class ConnectionStarter: RemovableChannelHandler {
    static let holdLimit = 256 * 1024
    /// How long a backend connection that nobody has used yet is watched for a reset: a live
    /// backend accepts within milliseconds, and a reset from a dying one comes at once.
    static let probeWindow = Duration.milliseconds(250)

    private let slot: RouteSlot
    private let dialer: BackendDialer
    private var held: [NIOAny] = []
    private var heldBytes = 0
    private var readSuppressed = false
    private var inputClosed = false
    /// A backend connection waiting for its first byte.
    private var probing: (upstream: Channel, backend: RouteBackend, probe: UpstreamProbe, window: Scheduled<Void>)?

    init(slot: RouteSlot, dialer: BackendDialer) {
        self.slot = slot
        self.dialer = dialer
    }

    /// Glues at once when the client has sent something; otherwise waits for the first byte.
    private func attach(context: ChannelHandlerContext, upstream: Channel, backend: RouteBackend, retry: @escaping (String?) -> Void) {
        // Reset between the connect and now: nothing was sent to it yet, so the next backend
        // can take the connection.
        guard upstream.isActive else {
            retry("closed as soon as it accepted the connection")
            return
        }
        // Client bytes would be forwarded by the glue: from then on a retry could repeat a
        // request. A half-close alone carries none, so it is held with the probe.
        guard held.isEmpty else {
            glue(context: context, upstream: upstream, backend: backend)
            return
        }
        let probe = UpstreamProbe(
            onFirstByte: { [self] in confirm(context: context, fromUpstream: true) },
            onEnd: { [self] ending in
                guard let probing else { return }
                self.probing = nil
                probing.window.cancel()
                if case .failed(let reason) = ending { retry(reason) } else { retry(nil) }
            })
        do {
            try upstream.pipeline.syncOperations.addHandler(probe)
        } catch {
            upstream.close(promise: nil)
            retry("closed as soon as it accepted the connection")
            return
        }
        let window = upstream.eventLoop.scheduleTask(in: TimeAmount(min(dialer.settings.connectTimeout, Self.probeWindow))) { [self] in
            confirm(context: context, fromUpstream: false)
        }
        probing = (upstream, backend, probe, window)
    }

    /// The backend connection is in use: glue it (from the upstream's first byte, the probe
    /// leaves the pipeline by itself).
    private func confirm(context: ChannelHandlerContext, fromUpstream: Bool) {
        guard let probing else { return }
        self.probing = nil
        probing.window.cancel()
        probing.probe.disarm()
        if !fromUpstream { probing.upstream.pipeline.syncOperations.removeHandler(probing.probe, promise: nil) }
        glue(context: context, upstream: probing.upstream, backend: probing.backend)
    }

    private func glue(context: ChannelHandlerContext, upstream: Channel, backend: RouteBackend) {
        let (clientSide, upstreamSide) = GlueHandler.matchedPair(counting: backend.stats, sweep: dialer.sweep(of: context.eventLoop))
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
        dialer.connect(client: context.channel, route: route, clientEndpoint: client) { [self] upstream, backend, retry in
            attach(context: context, upstream: upstream, backend: backend, retry: retry)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heldBytes += unwrapInboundIn(data).readableBytes
        held.append(data)
        if probing != nil { confirm(context: context, fromUpstream: false) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let probing {
            self.probing = nil
            probing.window.cancel()
            probing.probe.disarm()
            probing.upstream.close(promise: nil)
        }
        context.fireChannelInactive()
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
            inputClosed = true  // replayed by the glue
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
