import AsyncHTTPClient
import Foundation
import NIOCore

extension EtcdClient {
    /// Watches every key starting with `prefix` from `startRevision` (0: from now), with the
    /// previous value of deleted keys. Yields batches of events with the revision they bring the
    /// watcher to. Ends with `KVStoreError.compacted` when `startRevision` was compacted away
    /// (re-list, then watch from the listed revision + 1), or with the transport's error.
    ///
    /// The watch goes to the endpoint that last answered a request (a watcher lists before it
    /// watches, so after a fail-over the watch follows the endpoint that works).
    public func watch(prefix: String, startRevision: Int64) -> AsyncThrowingStream<(revision: Int64, events: [WatchEvent]), Error> {
        let endpoint = currentEndpoint
        let body: [String: Any] = [
            "create_request": [
                "key": GatewayWire.base64(prefix), "range_end": GatewayWire.base64(prefixRangeEnd(prefix)),
                "start_revision": String(startRevision), "prev_kv": true, "progress_notify": true,
            ] as [String: Any],
        ]
        let payload = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let http = self.http
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var request = HTTPClientRequest(url: endpoint + "/v3/watch")
                    request.method = .POST
                    request.body = .bytes(ByteBuffer(bytes: payload))
                    let response = try await http.execute(request, timeout: .hours(24 * 365))
                    guard response.status == .ok else {
                        throw KVStoreError.server(endpoint: endpoint, status: Int(response.status.code), message: "watch refused")
                    }
                    var pending = Data()
                    for try await chunk in response.body {
                        pending.append(contentsOf: chunk.readableBytesView)
                        if pending.count > Self.maximumWatchLine, !pending.contains(UInt8(ascii: "\n")) {
                            throw KVStoreError.badResponse(endpoint: endpoint, detail: "a watch message is longer than \(Self.maximumWatchLine >> 20) MiB")
                        }
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = pending[pending.startIndex..<newline]
                            pending = Data(pending[pending.index(after: newline)...])
                            guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) else { continue }
                            if let batch = try Self.parseWatchLine(Data(line), endpoint: endpoint) {
                                continuation.yield(batch)
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The longest watch message read (etcd's own limit on a request is 1.5 MiB).
    static let maximumWatchLine = 64 << 20

    static func parseWatchLine(_ line: Data, endpoint: String) throws -> (revision: Int64, events: [WatchEvent])? {
        let message: GatewayWire.WatchResponse
        do {
            message = try JSONDecoder().decode(GatewayWire.WatchResponse.self, from: line)
        } catch {
            throw KVStoreError.badResponse(endpoint: endpoint, detail: "watch line: \(error)")
        }
        if let error = message.error {
            throw KVStoreError.server(endpoint: endpoint, status: error.code ?? 0, message: error.message ?? error.error ?? "watch error")
        }
        guard let result = message.result else { return nil }
        if let compacted = result.compact_revision.flatMap(Int64.init), compacted > 0 {
            throw KVStoreError.compacted(compactRevision: compacted)
        }
        if result.canceled == true {
            throw KVStoreError.server(endpoint: endpoint, status: 0, message: "watch cancelled: \(result.cancel_reason ?? "no reason given")")
        }
        let revision = Int64(result.header?.revision ?? "0") ?? 0
        let events: [WatchEvent] = try (result.events ?? []).map { event in
            guard let kv = event.kv else { throw KVStoreError.badResponse(endpoint: endpoint, detail: "watch event without kv") }
            if event.type == "DELETE" {
                var deleted = try kv.model()
                if let previous = try event.prev_kv?.model() { deleted.value = previous.value }
                return .delete(deleted)
            }
            return .put(try kv.model())  // a PUT has no `type`: zero values are left out
        }
        if result.created == true, events.isEmpty { return (revision, []) }
        return (revision, events)
    }
}
