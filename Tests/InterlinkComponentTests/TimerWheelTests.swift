@testable import InterlinkProxy
import Testing

/// The data plane's timer wheel, on made-up times: what fires when, and what the loop is told
/// to sleep.
struct TimerWheelTests {
    static let ms: UInt64 = 1_000_000

    func entry(_ fd: Int32, due: UInt64, kind: TimerWheel.Kind = .idle) -> TimerWheel.Entry {
        TimerWheel.Entry(fd: fd, generation: 0, kind: kind, due: due)
    }

    @Test("entries fire once their time has come, not before, each once")
    func firesWhenDue() {
        var wheel = TimerWheel(now: 1000 * Self.ms)
        wheel.schedule(entry(1, due: 1005 * Self.ms))
        wheel.schedule(entry(2, due: 1250 * Self.ms))
        wheel.schedule(entry(3, due: 1251 * Self.ms))
        var fired: [TimerWheel.Entry] = []
        wheel.expire(now: 1004 * Self.ms, into: &fired)
        #expect(fired.isEmpty)
        wheel.expire(now: 1005 * Self.ms, into: &fired)
        #expect(fired.map(\.fd) == [1])
        fired.removeAll()
        wheel.expire(now: 1250 * Self.ms, into: &fired)
        #expect(fired.map(\.fd) == [2], "3 is due a millisecond later, in the same 10 ms slot")
        fired.removeAll()
        wheel.expire(now: 1251 * Self.ms, into: &fired)
        #expect(fired.map(\.fd) == [3])
        fired.removeAll()
        wheel.expire(now: 5000 * Self.ms, into: &fired)
        #expect(fired.isEmpty && wheel.count == 0)
    }

    @Test("the sleep until the next entry: none is -1, a due one is 0, else rounded up to the millisecond")
    func timeout() {
        var wheel = TimerWheel(now: 1000 * Self.ms)
        #expect(wheel.millisecondsToNext(now: 1000 * Self.ms) == -1)
        wheel.schedule(entry(1, due: 1250 * Self.ms + 1))
        wheel.schedule(entry(2, due: 3000 * Self.ms))
        #expect(wheel.millisecondsToNext(now: 1000 * Self.ms) == 251)
        #expect(wheel.millisecondsToNext(now: 1251 * Self.ms) == 0)
    }

    @Test("a deadline past one turn fires early, at the horizon, for the loop to schedule again")
    func beyondOneTurn() {
        var wheel = TimerWheel(now: 0, tick: 10 * Self.ms, slotCount: 8)  // one turn: 80 ms
        wheel.schedule(entry(1, due: 3600_000 * Self.ms))
        var fired: [TimerWheel.Entry] = []
        wheel.expire(now: 60 * Self.ms, into: &fired)
        #expect(fired.isEmpty)
        wheel.expire(now: 80 * Self.ms, into: &fired)
        #expect(fired.map(\.fd) == [1] && fired[0].due < 80 * Self.ms)
    }

    @Test("after a sleep longer than a turn, everything scheduled before it fires, in one pass")
    func longSleep() {
        var wheel = TimerWheel(now: 0, tick: 10 * Self.ms, slotCount: 8)
        for fd in Int32(0)..<20 { wheel.schedule(entry(fd, due: UInt64(fd) * 3 * Self.ms)) }
        var fired: [TimerWheel.Entry] = []
        wheel.expire(now: 10_000 * Self.ms, into: &fired)
        #expect(Set(fired.map(\.fd)) == Set(0..<20) && fired.count == 20 && wheel.count == 0)
    }

    @Test("an entry scheduled in the past fires at the next look")
    func pastDue() {
        var wheel = TimerWheel(now: 500 * Self.ms)
        var fired: [TimerWheel.Entry] = []
        wheel.expire(now: 600 * Self.ms, into: &fired)
        wheel.schedule(entry(7, due: 100 * Self.ms, kind: .connect))
        #expect(wheel.millisecondsToNext(now: 600 * Self.ms) == 0)
        wheel.expire(now: 600 * Self.ms, into: &fired)
        #expect(fired == [entry(7, due: 100 * Self.ms, kind: .connect)])
    }
}
