import InterlinkCore
import InterlinkMesh
import Logging
import NIOConcurrencyHelpers
import Testing

/// A remote cluster's watcher against a store the test controls, on a manual clock: what it
/// keeps while the remote is unreachable, and when it lets go.
@Suite(.timeLimit(.minutes(1)))
struct RemoteWatcherClockTests {
    /// West's store: its cluster config and one service, until it goes down.
    final class WestStore: RemoteStore {
        private struct State {
            var isUp = true
            var watches: [AsyncThrowingStream<(revision: Int64, events: [WatchEvent]), Error>.Continuation] = []
        }
        private let state = NIOLockedValueBox(State())
        let kvs = [
            KeyValue(key: "cilium/cluster-config/west", value: Array(#"{"id":2}"#.utf8)),
            KeyValue(key: "cilium/state/services/v1/west/default/echo", value: Array("""
                {"cluster":"west","clusterID":2,"namespace":"default","name":"echo","shared":true,\
                "backends":{"127.0.61.11":{"tcp":{"Protocol":"TCP","Port":9000}}}}
                """.utf8)),
        ]

        struct Down: Error {}

        func range(_ key: String, prefix: Bool, revision: Int64) async throws -> RangeResult {
            guard state.withLockedValue({ $0.isUp }) else { throw Down() }
            return RangeResult(kvs: kvs.filter { prefix ? $0.key.hasPrefix(key) : $0.key == key }, revision: 10)
        }

        func watch(prefix: String, startRevision: Int64) -> AsyncThrowingStream<(revision: Int64, events: [WatchEvent]), Error> {
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: (revision: Int64, events: [WatchEvent]).self)
            let isUp = state.withLockedValue { state in
                if state.isUp { state.watches.append(continuation) }
                return state.isUp
            }
            if !isUp { continuation.finish(throwing: Down()) }
            return stream
        }

        func goDown() {
            let watches = state.withLockedValue { state in
                state.isUp = false
                defer { state.watches = [] }
                return state.watches
            }
            for watch in watches { watch.finish(throwing: Down()) }
        }
    }

    @Test("an unreachable remote's backends are kept until the cache TTL has passed on the clock, then dropped")
    func cacheTTL() async throws {
        let clock = ManualClock()
        let store = WestStore()
        let latest = NIOLockedValueBox<RemoteServiceCache?>(nil)
        let watcher = RemoteClusterWatcher(
            cluster: try ClusterName("west"), clusterID: try ClusterID(2), store: store, cacheTTL: .seconds(30),
            clock: clock, logger: Logger(label: "test")
        ) { cache in latest.withLockedValue { $0 = cache } }
        let task = Task { await watcher.run() }
        #expect(await eventually { latest.withLockedValue { $0?.services.count } == 1 })

        store.goDown()
        var forgottenAt: Duration?
        while forgottenAt == nil, clock.now.offset < .seconds(60) {
            // Each step waits for the watcher to sleep (a backoff), then moves the clock 1 s.
            guard await eventually(.seconds(10), { clock.sleeperCount >= 1 }) else { break }
            if latest.withLockedValue({ $0?.services.isEmpty }) == true { forgottenAt = clock.now.offset; break }
            clock.advance(by: .seconds(1))
            _ = await eventually(.milliseconds(20)) { latest.withLockedValue { $0?.services.isEmpty } == true }
            if latest.withLockedValue({ $0?.services.isEmpty }) == true { forgottenAt = clock.now.offset }
        }
        let at = try #require(forgottenAt, "the backends were never dropped")
        #expect(at >= .seconds(30), "kept for the TTL: dropped at \(at)")
        #expect(at <= .seconds(41), "dropped within one backoff (at most 10 s) after the TTL: \(at)")
        task.cancel()
        await task.value
    }
}
