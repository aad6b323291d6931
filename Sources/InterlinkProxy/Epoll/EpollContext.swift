#if os(Linux)
import Atomics
import Logging

/// What every event loop of one data plane shares: settings, the open-connection count that
/// the connection limit and the drain read, and where failed dials are reported.
///
/// Threading: immutable but for the atomic count.
final class EpollContext: Sendable {
    let settings: ProxySettings
    let logger: Logger
    let reportFailure: PassiveFailureReporter
    let open = ManagedAtomic<Int>(0)
    let connectTimeout: UInt64
    let idleTimeout: UInt64
    /// How long a backend connection that nobody has used yet is watched for a reset.
    let probeWindow: UInt64
    /// Event loops of the data plane.
    let loopCount: Int

    init(settings: ProxySettings, logger: Logger, loopCount: Int, reportFailure: @escaping PassiveFailureReporter) {
        self.loopCount = loopCount
        self.settings = settings
        self.logger = logger
        self.reportFailure = reportFailure
        self.connectTimeout = settings.connectTimeout.nanoseconds
        self.idleTimeout = settings.idleTimeout.nanoseconds
        self.probeWindow = min(settings.connectTimeout, .milliseconds(250)).nanoseconds
    }
}

#endif
