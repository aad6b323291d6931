import InterlinkCore
import Testing

struct BackendHealthTests {
    @Test("starts up, before any check, so start-up never black-holes traffic")
    func startsUp() {
        let health = BackendHealth(rise: 2, fall: 3)
        #expect(health.isUp)
        #expect(!health.hasBeenChecked)
    }

    @Test("goes down after exactly `fall` consecutive failed checks", arguments: [1, 3, 5])
    func fall(_ fall: Int) {
        var health = BackendHealth(rise: 2, fall: fall)
        for _ in 1..<fall { #expect(health.handle(.checkFailed(reason: "x")) == nil) }
        #expect(health.handle(.checkFailed(reason: "refused")) == .wentDown)
        #expect(health.lastFailure == "refused")
    }

    @Test("a success in between resets the failure count")
    func successResetsFailures() {
        var health = BackendHealth(rise: 2, fall: 2)
        _ = health.handle(.checkFailed(reason: "x"))
        _ = health.handle(.checkSucceeded)
        #expect(health.handle(.checkFailed(reason: "x")) == nil)
        #expect(health.isUp)
    }

    @Test("a passive failure takes it down at once; only `rise` good active checks bring it back", arguments: [1, 2, 4])
    func passiveThenRise(_ rise: Int) {
        var health = BackendHealth(rise: rise, fall: 3)
        #expect(health.handle(.passiveFailure(reason: "dial")) == .wentDown)
        #expect(health.handle(.passiveFailure(reason: "dial")) == nil)
        for _ in 1..<rise { #expect(health.handle(.checkSucceeded) == nil) }
        #expect(health.handle(.checkSucceeded) == .wentUp)
        #expect(health.lastFailure == nil)
    }
}
