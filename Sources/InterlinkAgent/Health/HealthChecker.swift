import InterlinkCore
import Logging
import NIOCore
import ServiceLifecycle

/// Runs the active checks of every backend and feeds the results to the reconciler.
///
/// Each backend is checked every `interval`, ±10 % jitter so that checks of many backends do
/// not fall on the same instant; the first check comes within half an interval of start-up.
public struct HealthChecker: Service {
    let reconciler: Reconciler
    let group: EventLoopGroup
    let logger: Logger

    public init(reconciler: Reconciler, group: EventLoopGroup, logger: Logger) {
        self.reconciler = reconciler
        self.group = group
        self.logger = logger
    }

    /// Checks every target; each second, follows live changes (a service applied, deleted or
    /// re-annotated: checks start, stop or change) and ends expired ejections.
    public func run() async throws {
        let initial = await reconciler.checkTargets()
        logger.info("health checks started", metadata: ["backends": "\(initial.count)"])
        await cancelWhenGracefulShutdown {
            var running: [String: Task<Void, Never>] = [:]
            repeat {
                let targets = await reconciler.checkTargets()
                var wanted: [String: (key: BackendKey, spec: HealthCheckSpec)] = [:]
                for target in targets { wanted["\(target.key.service)|\(target.key.endpoint)|\(target.spec)"] = target }
                for (id, task) in running where wanted[id] == nil {
                    task.cancel()
                    running[id] = nil
                }
                for (id, target) in wanted where running[id] == nil {
                    running[id] = Task { await checkLoop(key: target.key, spec: target.spec) }
                }
                // Remote backends ejected after a failed dial come back by time.
                await reconciler.tick()
            } while (try? await Task.sleep(for: .seconds(1))) != nil
            for task in running.values { task.cancel() }
            for task in running.values { await task.value }
        }
    }

    private func checkLoop(key: BackendKey, spec: HealthCheckSpec) async {
        let intervalNanos = Double(spec.interval.nanoseconds)
        var delay = Int64(Double.random(in: 0..<0.5) * intervalNanos)
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .nanoseconds(delay))
            } catch {
                return
            }
            switch await HealthProbe.run(spec.kind, endpoint: key.endpoint, timeout: spec.timeout, group: group) {
            case .passed:
                await reconciler.record(.checkSucceeded, for: key)
            case .failed(let failure):
                logger.debug("check failed", metadata: ["service": "\(key.service)", "backend": "\(key.endpoint)", "reason": "\(failure)"])
                await reconciler.record(.checkFailed(reason: failure), for: key)
            case .notRun(let reason):
                logger.warning("check not run: this process is out of resources; the backend keeps its state", metadata: [
                    "service": "\(key.service)", "backend": "\(key.endpoint)", "error": "\(reason)",
                ])
            }
            delay = Int64(intervalNanos * Double.random(in: 0.9...1.1))
        }
    }
}
