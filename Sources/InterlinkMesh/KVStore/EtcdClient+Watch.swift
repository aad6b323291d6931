import Foundation
import GRPCCore

extension EtcdClient {
    /// Watches every key starting with `prefix` from `startRevision` (0: from now), with the
    /// previous value of deleted keys and progress notices. Yields batches of events with the
    /// revision they bring the watcher to (an empty batch when the watch is created, and for
    /// each progress notice). Ends with `KVStoreError.compacted` when `startRevision` was
    /// compacted away (re-list, then watch from the listed revision + 1), or with the error
    /// that ended the stream.
    ///
    /// The watch is a stream on the connection of the endpoint that last answered (a watcher
    /// lists before it watches, so after a fail-over the watch follows the endpoint that works).
    public func watch(prefix: String, startRevision: Int64) -> AsyncThrowingStream<(revision: Int64, events: [WatchEvent]), Error> {
        let connection = currentConnection
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(prefix.utf8)
        create.rangeEnd = Data(prefixRangeEnd(prefix))
        if prefix.isEmpty { create.key = Data([0]) }
        create.startRevision = startRevision
        create.prevKv = true
        create.progressNotify = true
        var message = Etcdserverpb_WatchRequest()
        message.createRequest = create
        let request = message
        let (ended, endSignal) = AsyncStream.makeStream(of: Never.self)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await self.authenticated(connection) { metadata in
                        try await Etcdserverpb_Watch.Client(wrapping: connection.client).watch(
                            metadata: metadata, options: self.options(timeout: nil),
                            requestProducer: { writer in
                                try await writer.write(request)
                                for await _ in ended {}  // keep the request side open: etcd ends a watch stream that is half-closed
                            },
                            onResponse: { response in
                                defer { endSignal.finish() }
                                for try await message in response.messages {
                                    if let batch = try Self.batch(message, endpoint: connection.endpoint) { continuation.yield(batch) }
                                }
                            })
                    }
                    continuation.finish(throwing: KVStoreError.server(endpoint: connection.endpoint, status: 0, message: "the watch stream ended"))
                } catch let error as RPCError {
                    endSignal.finish()
                    continuation.finish(throwing: Self.isUnavailable(error)
                        ? KVStoreError.unreachable(endpoints: [connection.endpoint], lastError: await connection.explain(Self.describe(error)))
                        : KVStoreError.server(endpoint: connection.endpoint, status: error.code.rawValue, message: Self.describe(error)))
                } catch {
                    endSignal.finish()
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                endSignal.finish()
                task.cancel()
            }
        }
    }

    /// The batch one watch response brings, nil for none; throws for a cancelled watch.
    static func batch(_ message: Etcdserverpb_WatchResponse, endpoint: String) throws -> (revision: Int64, events: [WatchEvent])? {
        if message.compactRevision > 0 { throw KVStoreError.compacted(compactRevision: message.compactRevision) }
        if message.canceled {
            throw KVStoreError.server(endpoint: endpoint, status: 0, message: "watch cancelled: \(message.cancelReason.isEmpty ? "no reason given" : message.cancelReason)")
        }
        let events: [WatchEvent] = message.events.map { event in
            if event.type == .delete {
                var deleted = event.kv.model
                if event.hasPrevKv { deleted.value = Array(event.prevKv.value) }
                return .delete(deleted)
            }
            return .put(event.kv.model)
        }
        return (message.header.revision, events)
    }
}
