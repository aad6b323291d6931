import InterlinkCore
import Testing

struct ClientAffinityTableTests {
    let client = IPAddress("192.168.0.7")!
    let a = SocketEndpoint("10.0.0.1:80")!
    let b = SocketEndpoint("10.0.0.2:80")!
    let t0 = ContinuousClock.Instant.now

    @Test("a client stays on its backend until the timeout passes", arguments: [(59, true), (60, false), (600, false)])
    func timeout(_ seconds: Int, _ pinned: Bool) {
        var table = ClientAffinityTable(timeout: .seconds(60))
        table.record(client: client, backend: a, now: t0)
        let found = table.lookup(client: client, now: t0 + .seconds(seconds)) { _ in true }
        #expect((found == a) == pinned)
    }

    @Test("each connection refreshes the timeout")
    func refresh() {
        var table = ClientAffinityTable(timeout: .seconds(60))
        table.record(client: client, backend: a, now: t0)
        table.record(client: client, backend: a, now: t0 + .seconds(50))
        #expect(table.lookup(client: client, now: t0 + .seconds(100)) { _ in true } == a)
    }

    @Test("a pinned backend that is no longer eligible is not used")
    func ineligible() {
        var table = ClientAffinityTable(timeout: .seconds(60))
        table.record(client: client, backend: a, now: t0)
        #expect(table.lookup(client: client, now: t0) { $0 == b } == nil)
    }

    @Test("expiry drops only stale entries")
    func expiry() {
        var table = ClientAffinityTable(timeout: .seconds(60))
        table.record(client: client, backend: a, now: t0)
        table.record(client: IPAddress("192.168.0.8")!, backend: b, now: t0 + .seconds(30))
        table.expire(now: t0 + .seconds(70))
        #expect(table.count == 1)
    }
}
