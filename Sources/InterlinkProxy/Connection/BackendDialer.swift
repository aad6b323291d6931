import InterlinkCore
import Logging
import NIOCore
import NIOPosix

/// Receives a backend dial failure: the passive health signal.
public typealias PassiveFailureReporter = @Sendable (_ service: ServiceName, _ backend: SocketEndpoint, _ cluster: ClusterName, _ reason: String) -> Void

/// Dials a backend for one accepted connection, retrying other eligible backends on failure,
/// then glues the two channels together.
///
/// Threading: everything runs on the client channel's event loop.
struct BackendDialer {
    let settings: ProxySettings
    let reportFailure: PassiveFailureReporter
    let logger: Logger

    /// Dials backends until one answers; calls `connected` with it, or closes the client.
    func connect(
        client: Channel, route: FrontendRoute, clientEndpoint: SocketEndpoint?, tried: [RouteBackend] = [],
        connected: @escaping (Channel) -> Void
    ) {
        guard tried.count < settings.maxAttempts, let backend = route.pick(client: clientEndpoint, excluding: tried) else {
            var metadata: Logger.Metadata = ["service": "\(route.service)", "frontend": "\(route.frontend)"]
            if !tried.isEmpty { metadata["tried"] = "\(tried.map(\.endpoint.description).joined(separator: ","))" }
            logger.warning("no backend could take the connection; closing it", metadata: metadata)
            client.close(promise: nil)
            return
        }
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(to: backend.socketAddress)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    backend.stats.connectionOpened()
                    upstream.closeFuture.whenComplete { _ in backend.stats.connectionClosed() }
                    guard client.isActive else {
                        upstream.close(promise: nil)
                        return
                    }
                    connected(upstream)
                case .failure(let error):
                    backend.stats.dialFailed()
                    let reason = "connect to \(backend.endpoint) failed: \(networkErrorText(error))"
                    logger.warning("backend dial failed; trying another", metadata: [
                        "service": "\(route.service)", "backend": "\(backend.endpoint)", "cluster": "\(backend.cluster)", "error": "\(networkErrorText(error))",
                    ])
                    reportFailure(route.service, backend.endpoint, backend.cluster, reason)
                    guard client.isActive else { return }
                    connect(client: client, route: route, clientEndpoint: clientEndpoint, tried: tried + [backend], connected: connected)
                }
            }
    }
}

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

    private func glue(context: ChannelHandlerContext, upstream: Channel) {
        let (clientSide, upstreamSide) = GlueHandler.matchedPair()
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
        dialer.connect(client: context.channel, route: route, clientEndpoint: client) { [self] upstream in
            glue(context: context, upstream: upstream)
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
