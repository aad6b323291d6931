import Foundation
import InterlinkCore
import InterlinkMesh
import Logging
import Synchronization

/// The one writer of the routing state: every source (manifests and the API, health checks,
/// failed dials, remote clusters) changes it here, and every change makes a new `RoutingState`
/// with the next revision, published to each subscriber.
///
/// Threading: a change runs under a lock and never suspends, so two changes cannot interleave
/// and none is lost; subscribers get the newest state through their own stream and never call
/// back into the writer.
public final class RoutingWriter: Sendable {
    private struct Guarded {
        var state: RoutingState
        var subscribers: [UUID: AsyncStream<RoutingState>.Continuation] = [:]
    }

    private let guarded: Mutex<Guarded>
    private let clock: Timeline
    private let logger: Logger

    public init(_ initial: RoutingState, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.guarded = Mutex(Guarded(state: initial))
        self.clock = Timeline(clock)
        self.logger = logger
    }

    /// The state now: a copy, read under the lock.
    public var current: RoutingState {
        guarded.withLock { $0.state }
    }

    /// The current state, then every new one. Only the newest is kept for a slow subscriber:
    /// each state holds everything, so a skipped one loses nothing.
    public func snapshots() -> AsyncStream<RoutingState> {
        let (stream, continuation) = AsyncStream.makeStream(of: RoutingState.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        guarded.withLock { guarded in
            continuation.yield(guarded.state)
            guarded.subscribers[id] = continuation
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.guarded.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Runs `change` on the state with the revision advanced and publishes the result; when it
    /// throws, nothing changes. A change that matters to no reader (a passed check of a healthy
    /// backend) is kept under the same revision and not published. Returns what `change`
    /// returned and the revision that holds it.
    @discardableResult
    func update<Result>(_ change: (inout RoutingState) throws -> Result) rethrows -> (result: Result, revision: UInt64) {
        try guarded.withLock { guarded in
            var next = guarded.state
            next.revision += 1
            let result = try change(&next)
            guard next.lastChangeRevision == next.revision else {
                next.revision -= 1
                guarded.state = next
                return (result, next.revision)
            }
            guarded.state = next
            for subscriber in guarded.subscribers.values { subscriber.yield(next) }
            return (result, next.revision)
        }
    }

    // MARK: The sources' changes

    /// Replaces the local services; returns the revision to wait for.
    @discardableResult
    public func replaceServices(_ next: [LocalService], reason: String) -> UInt64 {
        let revision = update { $0.replaceServices(next, reason: reason) }.revision
        logger.info("services changed", metadata: ["reason": "\(reason)", "services": "\(next.count)"])
        return revision
    }

    /// Changes a service's annotations; throws, changing nothing, when the result is invalid.
    @discardableResult
    public func annotate(_ name: ServiceName, _ annotations: [String: String?]) throws -> (spec: ServiceSpec, revision: UInt64) {
        let (spec, revision) = try update { try $0.annotate(name, annotations) }
        logger.info("service annotated", metadata: ["service": "\(name)", "changes": "\(RoutingState.summary(of: annotations))"])
        return (spec, revision)
    }

    /// Drains or undrains a backend; nil when no service has it (and not `evenIfUnknown`).
    @discardableResult
    public func setDrained(_ endpoint: SocketEndpoint, _ isDrained: Bool, evenIfUnknown: Bool = false) -> UInt64? {
        let (known, revision) = update { $0.setDrained(endpoint, isDrained, evenIfUnknown: evenIfUnknown) }
        return known ? revision : nil
    }

    /// Applies a health event (an active check's result or a failed dial).
    public func record(_ event: BackendHealth.Event, for key: BackendKey) {
        let now = clock.now
        let outcome = update { $0.record(event, for: key, now: now) }.result
        var metadata: Logger.Metadata = ["service": "\(key.service)", "backend": "\(key.endpoint)"]
        switch outcome {
        case .unchanged:
            return
        case .wentDown(let reason):
            metadata["reason"] = "\(reason)"
            logger.warning("backend down", metadata: metadata)
        case .wentUp:
            logger.info("backend up", metadata: metadata)
        case .ejected:
            if case .passiveFailure(let reason) = event { metadata["reason"] = "\(reason)" }
            metadata["for"] = "\(RoutingState.remoteEjection)"
            logger.warning("remote backend ejected", metadata: metadata)
        }
    }

    /// A failed dial reported by the data plane.
    public func recordPassiveFailure(service: ServiceName, backend: SocketEndpoint, reason: String) {
        record(.passiveFailure(reason: reason), for: BackendKey(service: service, endpoint: backend))
    }

    /// What a connected cluster exports now.
    public func updateRemote(_ cache: RemoteServiceCache) {
        update { $0.updateRemote(cache) }
    }

    /// Forgets a disconnected cluster: its backends leave every service.
    public func removeRemote(_ cluster: ClusterName) {
        update { _ = $0.removeRemote(cluster) }
    }

    /// A listener of the agent's own (API, mesh port) that no backend may be.
    public func addOwnListener(_ endpoint: SocketEndpoint, _ name: String) {
        update { $0.addOwnListener(endpoint, name) }
    }
}
