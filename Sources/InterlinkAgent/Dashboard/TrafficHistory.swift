import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// New connections per service and cluster, second by second, for the last three minutes:
/// what the dashboard's share chart draws (`GET /v1/traffic`). Sampled by the agent, so a page
/// opened now shows the recent past at once.
///
/// Threading: `run` samples every second; `document` may be read from any task.
final class TrafficHistory: Service, Sendable {
    struct Sample: Codable, Sendable {
        /// Seconds since 1970.
        var time: Double
        /// Cluster → new connections in that second (clusters with none are left out).
        var clusters: [String: Int]
    }

    static let length = 180
    let routes: RouteReconciler
    private let samples = NIOLockedValueBox<[String: [Sample]]>([:])

    init(routes: RouteReconciler) {
        self.routes = routes
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.sample() }
    }

    private func sample() async {
        var previous: [String: [String: Int]] = [:]
        while (try? await Task.sleep(for: .seconds(1))) != nil {
            let totals = routes.view.connectionTotals()
            let now = Date().timeIntervalSince1970
            let before = previous
            samples.withLockedValue { samples in
                for (service, clusters) in totals {
                    // A service or cluster new since the last sample starts from 0: its
                    // tally was made with it.
                    let earlier = before[service] ?? [:]
                    var delta: [String: Int] = [:]
                    // Clusters with no new connection are left out (the page reads them as 0):
                    // a service may have 255 clusters and three minutes of samples.
                    for (cluster, total) in clusters where total > earlier[cluster] ?? 0 { delta[cluster] = total - (earlier[cluster] ?? 0) }
                    samples[service, default: []].append(Sample(time: now, clusters: delta))
                    if samples[service]!.count > Self.length { samples[service]!.removeFirst() }
                }
                for service in samples.keys where totals[service] == nil { samples[service] = nil }
            }
            // Kept for services that went: if one comes back, its tally goes on from there.
            previous.merge(totals) { $1 }
        }
    }

    /// Service → its samples, oldest first.
    func document() -> [String: [Sample]] {
        samples.withLockedValue { $0 }
    }
}
