/// The health state machine of one backend: active check results and passive failures in,
/// transitions out.
///
/// A backend starts **up**: before its first check, the EndpointSlice's readiness is trusted,
/// so start-up never black-holes traffic; a dead backend is caught by the first failed dial
/// (passive) or by `fall` failed checks. A passive failure takes it down at once; only `rise`
/// consecutive good active checks bring it back.
public struct BackendHealth: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable { case up, down }

    /// What an event changed, for the caller to act on.
    public enum Transition: Hashable, Sendable { case wentUp, wentDown }

    public enum Event: Hashable, Sendable {
        case checkSucceeded
        case checkFailed(reason: String)
        case passiveFailure(reason: String)
    }

    public private(set) var status: Status = .up
    public private(set) var consecutiveSuccesses = 0
    public private(set) var consecutiveFailures = 0
    /// Why the backend is down, or the last failure seen while up.
    public private(set) var lastFailure: String?
    /// True once an active check has completed.
    public private(set) var hasBeenChecked = false

    public let rise: Int
    public let fall: Int

    public init(rise: Int, fall: Int) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
    }

    public var isUp: Bool { status == .up }

    public mutating func handle(_ event: Event) -> Transition? {
        switch event {
        case .checkSucceeded:
            hasBeenChecked = true
            consecutiveFailures = 0
            consecutiveSuccesses += 1
            if status == .down, consecutiveSuccesses >= rise {
                status = .up
                lastFailure = nil
                return .wentUp
            }
            return nil
        case .checkFailed(let reason):
            hasBeenChecked = true
            consecutiveSuccesses = 0
            consecutiveFailures += 1
            lastFailure = reason
            if status == .up, consecutiveFailures >= fall {
                status = .down
                return .wentDown
            }
            return nil
        case .passiveFailure(let reason):
            consecutiveSuccesses = 0
            lastFailure = reason
            if status == .up {
                status = .down
                return .wentDown
            }
            return nil
        }
    }
}
