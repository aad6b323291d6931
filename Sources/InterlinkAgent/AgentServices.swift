import InterlinkCore
import InterlinkProxy
import Logging
import ServiceLifecycle

/// Applies the live changes saved in the store once, at start.
struct LiveRestore: Service {
    let live: LiveChanges

    func run() async throws {
        await cancelWhenGracefulShutdown { await live.restore() }
        try? await gracefulShutdown()
    }
}

/// Feeds failed dials from the data plane into the routing writer as passive health failures.
struct PassiveHealthFeed: Service {
    let failures: AsyncStream<Agent.PassiveFailure>
    let writer: RoutingWriter

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await failure in failures {
                writer.recordPassiveFailure(service: failure.service, backend: failure.backend, reason: failure.reason)
            }
        }
    }
}

/// The data plane's lifecycle: runs until shutdown, then stops accepting and drains.
struct DataPlane: Service {
    let proxy: any ProxyDataPlane
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await proxy.stopAccepting()
        let open = proxy.openConnections
        logger.info("stopped accepting; draining", metadata: ["open": "\(open)", "grace": "\(grace)"])
        if await proxy.waitForDrain(grace: grace) {
            logger.info("drained")
        } else {
            logger.warning("grace period over; closing remaining connections", metadata: ["open": "\(proxy.openConnections)"])
        }
    }
}
