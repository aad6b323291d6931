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

    func connect(client: Channel, route: FrontendRoute, clientEndpoint: SocketEndpoint?, tried: [RouteBackend] = []) {
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
                    glue(client: client, upstream: upstream)
                case .failure(let error):
                    backend.stats.dialFailed()
                    let reason = "connect to \(backend.endpoint) failed: \(error)"
                    logger.warning("backend dial failed; trying another", metadata: [
                        "service": "\(route.service)", "backend": "\(backend.endpoint)", "cluster": "\(backend.cluster)", "error": "\(error)",
                    ])
                    reportFailure(route.service, backend.endpoint, backend.cluster, reason)
                    guard client.isActive else { return }
                    connect(client: client, route: route, clientEndpoint: clientEndpoint, tried: tried + [backend])
                }
            }
    }

    private func glue(client: Channel, upstream: Channel) {
        guard client.isActive else {
            upstream.close(promise: nil)
            return
        }
        let (clientSide, upstreamSide) = GlueHandler.matchedPair()
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamSide)
            try client.pipeline.syncOperations.addHandler(clientSide)
        } catch {
            upstream.close(promise: nil)
            client.close(promise: nil)
            return
        }
        client.setOption(.autoRead, value: true).whenFailure { _ in client.close(promise: nil) }
    }
}

/// Starts the dial when a client connection becomes active.
final class ConnectionStarter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let slot: RouteSlot
    private let dialer: BackendDialer

    init(slot: RouteSlot, dialer: BackendDialer) {
        self.slot = slot
        self.dialer = dialer
    }

    func channelActive(context: ChannelHandlerContext) {
        let route = slot.route
        let needsClient = route.algorithm == .maglev || route.affinity != nil
        let client = needsClient ? SocketEndpoint(context.channel.remoteAddress) : nil
        dialer.connect(client: context.channel, route: route, clientEndpoint: client)
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
