import Foundation
import InterlinkAPI

/// What changed the routing, most recent last: local health transitions, remote clusters'
/// updates, ejections. Served at `GET /v1/events` so that users (and the propagation
/// benchmark) see when and why traffic moved. Keeps the last `capacity` events.
public struct ChangeLog: Sendable {
    public typealias Event = ChangeEvent

    private(set) var events: [Event] = []
    /// Every event ever recorded, by kind (the ring keeps only the last `capacity`).
    private(set) var totals: [String: Int] = [:]
    private var nextSequence = 1
    let capacity: Int

    init(capacity: Int = 1000) {
        self.capacity = capacity
    }

    /// Cheap on purpose (it runs for every routing change): the time text is made when served.
    mutating func record(_ kind: String, service: String? = nil, cluster: String? = nil, backend: String? = nil, detail: String, at now: Date = Date()) {
        events.append(Event(
            sequence: nextSequence, time: "", timestamp: now.timeIntervalSince1970,
            kind: kind, service: service, cluster: cluster, backend: backend, detail: detail))
        nextSequence += 1
        totals[kind, default: 0] += 1
        if events.count > capacity { events.removeFirst(events.count - capacity) }
    }

    func since(_ sequence: Int) -> [Event] {
        Self.withTimes(events.filter { $0.sequence > sequence })
    }

    /// The last event of each service.
    func latestByService() -> [String: Event] {
        var latest: [String: Event] = [:]
        for event in events.reversed() {
            guard let service = event.service, latest[service] == nil else { continue }
            latest[service] = event
        }
        let timed = Self.withTimes(Array(latest.values))
        return Dictionary(uniqueKeysWithValues: timed.map { ($0.service!, $0) })
    }

    private static func withTimes(_ events: [Event]) -> [Event] {
        guard !events.isEmpty else { return [] }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return events.map { event in
            var event = event
            event.time = formatter.string(from: Date(timeIntervalSince1970: event.timestamp))
            return event
        }
    }
}
