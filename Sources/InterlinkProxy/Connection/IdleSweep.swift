import NIOCore
import NIOPosix

/// The idle timeout of every glued connection on one event loop: one repeating task per loop
/// instead of a scheduled task per connection (NIO cancels a scheduled task by searching its
/// whole queue, so that cost grew with the connections open). A connection marks itself active
/// by noting the sweep's round on each read; every round, those idle for the timeout close.
///
/// Threading: made for a loop before any connection, then used only on that loop (hence
/// `@unchecked Sendable`: nothing is shared across threads after `init`).
final class IdleSweep: @unchecked Sendable {
    /// Activity of one connection, shared by its two glue handlers.
    final class Activity {
        var round: Int
        weak var closer: GlueHandler?

        init(round: Int) {
            self.round = round
        }
    }

    private let loop: EventLoop
    private let period: TimeAmount
    /// The idle timeout in rounds.
    private let rounds: Int
    private(set) var round = 0
    private var members: [ObjectIdentifier: Activity] = [:]
    private var task: RepeatedTask?

    init(loop: EventLoop, idleTimeout: Duration) {
        self.loop = loop
        let nanoseconds = max(idleTimeout.nanoseconds, 1_000_000)
        let period = min(nanoseconds / 4, 1_000_000_000)
        self.period = .nanoseconds(Int64(period))
        self.rounds = Int(clamping: (nanoseconds + period - 1) / period)
    }

    /// Follows a new connection (its client-side glue closes it when idle).
    func add(_ closer: GlueHandler) -> Activity {
        let activity = Activity(round: round)
        activity.closer = closer
        members[ObjectIdentifier(activity)] = activity
        if task == nil {
            task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in sweep() }
        }
        return activity
    }

    func remove(_ activity: Activity) {
        members[ObjectIdentifier(activity)] = nil
        if members.isEmpty {
            task?.cancel()
            task = nil
        }
    }

    private func sweep() {
        round += 1
        for activity in members.values where round - activity.round >= rounds {
            activity.closer?.closeIdle()
        }
    }
}

/// What the NIO data plane keeps per event loop, made at start: the loop's idle sweep and one
/// client bootstrap with its options set once (instead of a bootstrap per dial).
///
/// Threading: made before any connection, then used only on its loop (`ClientBootstrap` is
/// not `Sendable`; nothing here is shared across threads after `init`).
final class LoopShare: @unchecked Sendable {
    let sweep: IdleSweep
    let bootstrap: ClientBootstrap

    init(loop: EventLoop, settings: ProxySettings) {
        sweep = IdleSweep(loop: loop, idleTimeout: settings.idleTimeout)
        bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.allowRemoteHalfClosure, value: true)
    }

    /// One per loop of `group`.
    static func make(for group: EventLoopGroup, settings: ProxySettings) -> [ObjectIdentifier: LoopShare] {
        var shares: [ObjectIdentifier: LoopShare] = [:]
        for loop in group.makeIterator() { shares[ObjectIdentifier(loop)] = LoopShare(loop: loop, settings: settings) }
        return shares
    }
}
