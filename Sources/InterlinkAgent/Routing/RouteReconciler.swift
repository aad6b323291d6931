import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Synchronization

/// The one reconciler of the data plane: follows the writer's states, plans each frontend with
/// the pure route planner and applies the plans to its `RouteTarget`.
///
/// It coalesces: a state whose changes are all remote clusters' updates is applied at most once
/// per window (50 ms, longer while applying is costly, so that a burst of many clusters
/// syncing spends at most about a fifth of the time republishing), and as soon as no remote
/// update has come for 100 ms; local health and operator changes are applied at once. Every second it plans again what moves with time alone (an
/// ejection that ends, a failback delay or ramp). It owns the per-backend counters and the
/// ClientIP tables, and prunes them when their backends or frontends go.
///
/// Threading: an actor whose only long-running caller is `run`; what it applied is published
/// as a `RouteView` that readers take without waiting (`view`).
public actor RouteReconciler: Service {
    /// Hooks for metrics: a connect-latency recorder per service and cluster, and the delay
    /// between a remote update's arrival and its application.
    public struct Observers: Sendable {
        public var connectLatency: @Sendable (ServiceName, ClusterName) -> (@Sendable (Duration) -> Void)? = { _, _ in nil }
        public var remoteApplied: @Sendable (Duration) -> Void = { _ in }
        public init() {}
    }

    public static let coalescing = Duration.milliseconds(50)
    /// A burst of remote changes is over when none has come for this long: what is pending is
    /// then applied without waiting for the rest of the window.
    public static let quiet = Duration.milliseconds(100)
    /// How often a coalescing wait looks for an urgent change.
    static let slice = Duration.milliseconds(10)
    public static let tickInterval = Duration.seconds(1)

    let writer: RoutingWriter
    let target: any RouteTarget
    let clock: Timeline
    let logger: Logger
    let observers: Observers

    var planning = PlanMemory()
    let counters: BackendCounters
    var affinityStores: [Frontend: ClientAffinityStore] = [:]
    /// Remote backends each service's routes were planned with (`/v1/clusters`).
    var routedRemote: [ServiceName: Int] = [:]
    /// The state last applied (nil before the first).
    var applied: RoutingState?
    var lastApply: ContinuousClock.Instant
    var lastTick: ContinuousClock.Instant
    var applyCostPerService = Duration.zero
    private var waiters: [(revision: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private nonisolated let published: Mutex<RouteView>

    public init(writer: RoutingWriter, target: any RouteTarget, clock: any Clock<Duration> = ContinuousClock(), logger: Logger, observers: Observers = Observers()) {
        self.writer = writer
        self.target = target
        self.clock = Timeline(clock)
        self.logger = logger
        self.observers = observers
        self.counters = BackendCounters(observers: observers)
        self.lastApply = self.clock.now - .seconds(1)
        self.lastTick = self.clock.now
        self.published = Mutex(RouteView(state: writer.current))
    }

    /// What was applied last: the state, each frontend's plan and the counters.
    public nonisolated var view: RouteView { published.withLock { $0 } }

    /// Binds every frontend of the current state and applies its routes; throws, naming them,
    /// when frontends cannot be bound. Call once, before `run`.
    public func start() async throws {
        let state = writer.current
        try await target.listen(state.frontends)
        await reconcile(state, now: clock.now)
    }

    /// Binds the frontends of `services` that are not listening yet, before the writer is
    /// given them (`interlink apply`): a frontend that cannot be bound refuses the change.
    public func prepare(_ services: [LocalService]) async throws {
        try await target.listen(RoutingState.frontends(of: services))
    }

    /// Returns once the state of `revision` (or a later one) is applied.
    public func waitApplied(_ revision: UInt64) async {
        if (applied?.revision ?? 0) >= revision { return }
        await withCheckedContinuation { waiters.append((revision, $0)) }
    }

    /// Returns once everything the writer holds now is applied.
    public func settle() async {
        await waitApplied(writer.current.revision)
    }

    public func run() async throws {
        let inbox = NIOLockedValueBox(Inbox())
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let snapshots = writer.snapshots()
        let clock = self.clock
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await state in snapshots {
                        inbox.withLockedValue { inbox in
                            let now = clock.now
                            if inbox.since == nil { inbox.since = now }
                            inbox.lastArrival = now
                            inbox.state = state
                        }
                        wake.yield()
                    }
                    wake.finish()
                }
                group.addTask {
                    while (try? await clock.sleep(for: Self.tickInterval)) != nil {
                        inbox.withLockedValue { $0.ticked = true }
                        wake.yield()
                    }
                    wake.finish()
                }
                group.addTask {
                    for await _ in wakeups { await self.handle(inbox) }
                }
            }
        }
        for waiter in waiters { waiter.continuation.resume() }
        waiters = []
    }

    /// What the run loop was given since it last looked.
    struct Inbox: Sendable {
        var state: RoutingState?
        /// When the oldest state not yet applied arrived, and the newest.
        var since: ContinuousClock.Instant?
        var lastArrival: ContinuousClock.Instant?
        var ticked = false
    }

    private func handle(_ inbox: NIOLockedValueBox<Inbox>) async {
        if let state = inbox.withLockedValue({ $0.state }), state.revision > (applied?.revision ?? 0) {
            let appliedRevision = applied?.revision ?? 0
            if state.urgentRevision <= appliedRevision {
                // Only remote updates: wait until the window ends or the burst is over (or an
                // urgent change comes), then apply whatever is newest.
                let pending = state.services.count { (state.serviceRevisions[$0.spec.name] ?? 0) > appliedRevision }
                let window = max(Self.coalescing, applyCostPerService * (4 * max(1, pending)))
                while !Task.isCancelled {
                    let (arrival, urgent) = inbox.withLockedValue { ($0.lastArrival, ($0.state?.urgentRevision ?? 0) > appliedRevision) }
                    let now = clock.now
                    let deadline = min(lastApply + window, (arrival ?? now) + Self.quiet)
                    if urgent || now >= deadline { break }
                    try? await clock.sleep(until: min(deadline, now + Self.slice))
                }
            }
            let (latest, since) = inbox.withLockedValue { inbox in
                defer { (inbox.state, inbox.since) = (nil, nil) }
                return (inbox.state, inbox.since)
            }
            if let latest {
                let remoteOnly = latest.urgentRevision <= (applied?.revision ?? 0)
                await reconcile(latest, now: clock.now)
                if remoteOnly, let since { observers.remoteApplied(clock.now - since) }
            }
        }
        if inbox.withLockedValue({ inbox in defer { inbox.ticked = false }; return inbox.ticked }) {
            tick(now: clock.now)
        }
    }

    /// Applies `state`: plans the frontends whose inputs changed since the last applied state
    /// and publishes their routes; when frontends came or went, makes the listeners match.
    func reconcile(_ state: RoutingState, now: ContinuousClock.Instant) async {
        let start = clock.now
        let previous = applied
        let appliedRevision = previous?.revision ?? 0
        // Services come and go (and so frontends) only with a change that concerns all of them.
        let everything = previous == nil || state.everyServiceRevision > appliedRevision
        let frontends = everything ? Set(state.frontends.keys) : []
        if everything { planning.keep(only: frontends) }
        var routes: [FrontendRoute] = []
        var planned = 0
        for service in state.services where everything || (state.serviceRevisions[service.spec.name] ?? 0) > appliedRevision {
            routes += self.routes(of: service, in: state, now: now)
            planned += 1
        }
        if everything {
            do {
                try await target.apply(routes)
            } catch {
                logger.error("frontends could not be bound; their services take no connections", metadata: ["error": "\(error)"])
            }
        } else if !routes.isEmpty {
            target.publish(routes)
        }
        // Backends leave with a replaced service list or a disconnected cluster (rare events).
        if everything || previous?.remotes.keys.contains(where: { state.remotes[$0] == nil }) == true {
            prune(state, frontends: Set(state.frontends.keys))
        }
        applied = state
        lastApply = clock.now
        if planned > 0 { applyCostPerService = (lastApply - start) / planned }
        publishView()
        let ready = waiters.filter { $0.revision <= state.revision }
        waiters.removeAll { $0.revision <= state.revision }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Plans again the frontends whose plan moves with time: a remote backend's ejection that
    /// has ended since the last tick, a tier waiting out its failback delay or ramping up.
    func tick(now: ContinuousClock.Instant) {
        defer { lastTick = now }
        guard let state = applied else { return }
        var policies: [Frontend: RoutingPolicy] = [:]
        for service in state.services { for port in service.ports { policies[port.frontend] = service.spec.routing } }
        let timed = planning.timed(now: now, policies: policies)
        let ejectionsEnded = Set(state.ejectedUntil.filter { $0.value > lastTick && $0.value <= now }.map(\.key.service))
        var routes: [FrontendRoute] = []
        for service in state.services where ejectionsEnded.contains(service.spec.name) || service.ports.contains(where: { timed.contains($0.frontend) }) {
            routes += self.routes(of: service, in: state, now: now)
        }
        guard !routes.isEmpty else { return }
        target.publish(routes)
        publishView()
    }

    private func publishView() {
        guard let applied else { return }
        let view = RouteView(state: applied, plans: planning.plans, counters: counters, routedRemote: routedRemote)
        published.withLock { $0 = view }
    }
}
