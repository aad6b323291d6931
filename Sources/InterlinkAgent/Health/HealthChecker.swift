import InterlinkCore
import InterlinkMesh
import Logging
import NIOCore
import ServiceLifecycle

/// Runs the active checks of every local backend and gives the results to the routing writer.
///
/// It follows the writer's states: a service applied, deleted or re-annotated starts, stops or
/// changes checks. Each backend is checked every `interval`, ±10 % jitter so that checks of
/// many backends do not fall on the same instant; the first check comes within half an
/// interval of its start.
public struct HealthChecker: Service {
    let writer: RoutingWriter
    let group: EventLoopGroup
    let clock: Timeline
    let logger: Logger

    public init(writer: RoutingWriter, group: EventLoopGroup, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.writer = writer
        self.group = group
        self.clock = Timeline(clock)
        self.logger = logger
    }

    public func run() async throws {
        logger.info("health checks started", metadata: ["backends": "\(writer.current.checkTargets().count)"])
        await cancelWhenGracefulShutdown {
            var running: [HealthTarget: Task<Void, Never>] = [:]
            var seen: UInt64?
            for await state in writer.snapshots() {
                guard state.hasLocalChanges(since: seen) else { continue }
                seen = state.revision
                let wanted = Set(state.checkTargets())
                for (target, task) in running where !wanted.contains(target) {
                    task.cancel()
                    running[target] = nil
                }
                for target in wanted where running[target] == nil {
                    running[target] = Task { await checkLoop(target) }
                }
            }
            for task in running.values { task.cancel() }
            for task in running.values { await task.value }
        }
    }

    private func checkLoop(_ target: HealthTarget) async {
        let (key, spec) = (target.key, target.spec)
        let intervalNanos = Double(spec.interval.nanoseconds)
        var delay = Int64(Double.random(in: 0..<0.5) * intervalNanos)
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: .nanoseconds(delay))
            } catch {
                return
            }
            switch await HealthProbe.run(spec.kind, endpoint: target.probe, timeout: spec.timeout, group: group) {
            case .passed:
                writer.record(.checkSucceeded, for: key)
            case .failed(let failure):
                logger.debug("check failed", metadata: ["service": "\(key.service)", "backend": "\(key.endpoint)", "reason": "\(failure)"])
                writer.record(.checkFailed(reason: failure), for: key)
            case .notRun(let reason):
                logger.warning("check not run: this process is out of resources; the backend keeps its state", metadata: [
                    "service": "\(key.service)", "backend": "\(key.endpoint)", "error": "\(reason)",
                ])
            }
            delay = Int64(intervalNanos * Double.random(in: 0.9...1.1))
        }
    }
}
