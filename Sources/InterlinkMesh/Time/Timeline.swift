/// An injected `Clock<Duration>` read as `ContinuousClock.Instant`s, the time type of the pure
/// core (failback stamps, ejections): instants start at the real `now` when the timeline is
/// made and advance as the injected clock does. With `ContinuousClock` it is the real time;
/// with a test clock, time moves only when the test advances it.
public struct Timeline: Sendable {
    public let clock: any Clock<Duration>
    private let origin: ContinuousClock.Instant
    private let elapsed: @Sendable () -> Duration

    public init(_ clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
        self.origin = .now
        self.elapsed = Self.stopwatch(clock)
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let start = clock.now
        return { start.duration(to: clock.now) }
    }

    public var now: ContinuousClock.Instant { origin + elapsed() }

    public func sleep(for duration: Duration) async throws {
        try await clock.sleep(for: duration)
    }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let remaining = deadline - now
        if remaining > .zero { try await clock.sleep(for: remaining) }
    }
}
