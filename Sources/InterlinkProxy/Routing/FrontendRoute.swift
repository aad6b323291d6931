import Atomics
import InterlinkCore
import NIOConcurrencyHelpers

/// The immutable routing decision for one frontend: its eligible backends and how to pick one.
///
/// A new connection loads the current route once and never waits on the control plane;
/// publishing a new route never touches connections already made.
public final class FrontendRoute: Sendable {
    public let service: ServiceName
    public let frontend: Frontend
    /// UDP: how long a flow stays pinned to its backend with no datagram either way.
    public let udpFlowTimeout: Duration
    /// Eligible backends, in Maglev order (sorted by address).
    public let backends: [RouteBackend]
    /// Where retries go once every eligible backend has failed for this connection: the
    /// backends selection would make eligible if those were down (e.g. the remote clusters of
    /// an `affinity: local` service). Passive health moves new connections there too.
    public let fallback: [RouteBackend]
    public let algorithm: LoadBalancingAlgorithm
    /// Each backend's share of new connections, in `backends` order (the route planner's
    /// weights); empty when they are all equal.
    public let shares: [Double]
    /// Running sums of `shares`, for a weighted pick.
    private let cumulativeShares: [Double]
    let maglev: MaglevTable?
    let affinity: ClientAffinityStore?
    private let pickCounter = ManagedAtomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    public init(
        service: ServiceName, frontend: Frontend, backends: [RouteBackend], fallback: [RouteBackend] = [],
        algorithm: LoadBalancingAlgorithm, affinity: ClientAffinityStore?, weights: [SocketEndpoint: Double] = [:],
        udpFlowTimeout: Duration = ServiceSpec.defaultUDPFlowTimeout
    ) {
        self.udpFlowTimeout = udpFlowTimeout
        var seen: Set<SocketEndpoint> = []
        let sorted = backends.sorted { $0.endpoint < $1.endpoint }.filter { seen.insert($0.endpoint).inserted }
        let shares = sorted.map { max(0, weights[$0.endpoint] ?? 1) }
        let isUniform = shares.allSatisfy { abs($0 - (shares.first ?? 0)) < 1e-9 } || shares.allSatisfy { $0 == 0 }
        self.shares = isUniform ? [] : shares
        var sum = 0.0
        self.cumulativeShares = isUniform ? [] : shares.map { share in
            sum += share
            return sum
        }
        self.service = service
        self.frontend = frontend
        self.backends = sorted
        self.fallback = fallback
        self.algorithm = algorithm
        self.affinity = affinity
        // Maglev's table spreads evenly; with unequal shares the flow hash drives the weighted
        // pick instead, so a client still lands on the same backend while the route holds.
        self.maglev = algorithm == .maglev && !sorted.isEmpty && isUniform ? MaglevTable(backends: sorted.map(\.endpoint)) : nil
    }

    /// Picks a backend for a new connection from `client`, skipping those already tried.
    ///
    /// `lastAttempt`: the connection's last retry; it goes to the fallback tier when there is
    /// one, so that a client whose preferred backends are all dead (and not yet marked down)
    /// still gets through.
    func pick(client: SocketEndpoint?, excluding tried: [RouteBackend], lastAttempt: Bool = false) -> RouteBackend? {
        var candidates = tried.isEmpty ? backends : backends.filter { b in !tried.contains { $0 === b } }
        if candidates.isEmpty || (lastAttempt && !tried.isEmpty && !fallback.isEmpty) {
            let untried = fallback.filter { b in !tried.contains { $0.endpoint == b.endpoint } }
            if !untried.isEmpty || candidates.isEmpty { candidates = untried }
        }
        guard !candidates.isEmpty else { return nil }
        if let affinity, let client,
           let pinned = affinity.lookup(client: client.ip, isEligible: { endpoint in candidates.contains { $0.endpoint == endpoint } })
        {
            return candidates.first { $0.endpoint == pinned }
        }
        var chosen: RouteBackend?
        if tried.isEmpty, let maglev, let client, let index = maglev.backendIndex(forHash: MaglevTable.flowHash(client: client)) {
            chosen = backends[index]  // same sorted order as the table
        } else if tried.isEmpty, candidates.count == backends.count, let total = cumulativeShares.last, total > 0 {
            let draw: UInt64 = if algorithm == .maglev, let client { MaglevTable.flowHash(client: client) } else {
                RandomPick.draw(pickCounter.wrappingIncrementThenLoad(ordering: .relaxed))
            }
            chosen = backends[RandomPick.weightedIndex(draw, cumulative: cumulativeShares)]
        }
        // A shared counter through `RandomPick`: no `getrandom` system call per connection.
        let backend = chosen ?? candidates[RandomPick.index(pickCounter.wrappingIncrementThenLoad(ordering: .relaxed), count: candidates.count)!]
        if let affinity, let client {
            affinity.record(client: client.ip, backend: backend.endpoint)
        }
        return backend
    }
}

extension FrontendRoute: AtomicReference {}

/// The ClientIP affinity table of one frontend, kept across route updates.
///
/// Threading: a lock guards the table; only services with `sessionAffinity: ClientIP` have one.
public final class ClientAffinityStore: Sendable {
    public let timeout: Duration
    private let table: NIOLockedValueBox<ClientAffinityTable>
    private let recordsSinceExpiry = ManagedAtomic<Int>(0)

    public init(timeout: Duration) {
        self.timeout = timeout
        self.table = NIOLockedValueBox(ClientAffinityTable(timeout: timeout))
    }

    func lookup(client: IPAddress, isEligible: (SocketEndpoint) -> Bool) -> SocketEndpoint? {
        let now = ContinuousClock.now
        return table.withLockedValue { $0.lookup(client: client, now: now, isEligible: isEligible) }
    }

    func record(client: IPAddress, backend: SocketEndpoint) {
        let now = ContinuousClock.now
        let expire = recordsSinceExpiry.wrappingIncrementThenLoad(ordering: .relaxed) % 4096 == 0
        table.withLockedValue { table in
            table.record(client: client, backend: backend, now: now)
            if expire { table.expire(now: now) }
        }
    }
}
