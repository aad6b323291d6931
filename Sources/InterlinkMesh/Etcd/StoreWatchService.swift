import AsyncAlgorithms
import Foundation
import GRPCCore
import NIOConcurrencyHelpers
import NIOPosix

/// etcd's `Watch` service on the embedded store: one bidirectional stream carries any number of
/// watchers. Create requests are answered in the order they came (`created`, with a watch ID
/// distinct on the stream, counted from 0 as etcd does, or the ID the client asked for); each
/// watcher replays history from `start_revision`, then follows new writes with exact
/// revisions and versions, `prev_kv` and the NOPUT/NODELETE filters; `progress_notify`
/// watchers get progress notices, a progress request gets one notice (watch ID -1); a cancel
/// request ends one watcher (`canceled`). A start revision that was compacted is answered
/// `created`, then `canceled` with `compact_revision`, as etcd does.
///
/// Bounded: every response goes through one channel to the stream's single writer, and a
/// watcher waits while it is full; the store bounds what each watcher may have unread
/// (`StoreWatch`), so a peer that does not read gets its watchers cancelled, not our memory.
struct StoreWatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess

    /// The most watchers one stream may hold (etcd has no limit; a bound keeps one peer from
    /// holding unbounded state).
    static let maximumWatchersPerStream = 4096

    func watch(
        request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>, response: RPCWriter<Etcdserverpb_WatchResponse>,
        context: ServerContext
    ) async throws {
        let grant = try access.grant(context)
        let outbox = AsyncChannel<Etcdserverpb_WatchResponse>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in outbox { try await response.write(message) }
            }
            let stream = WatchStream(store: store, identity: identity, grant: grant, outbox: outbox)
            do {
                for try await message in request {
                    try await stream.handle(message)
                }
            } catch {
                await stream.end()
                outbox.finish()
                throw error
            }
            await stream.end()
            outbox.finish()
            try await group.waitForAll()
        }
    }
}

/// The watchers of one watch stream.
final class WatchStream: Sendable {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let grant: MeshAccess.Grant
    let outbox: AsyncChannel<Etcdserverpb_WatchResponse>
    private let state = NIOLockedValueBox(State())

    struct State {
        var nextID: Int64 = 0
        var watchers: [Int64: Task<Void, Never>] = [:]
    }

    init(store: EmbeddedStore, identity: StoreIdentity, grant: MeshAccess.Grant, outbox: AsyncChannel<Etcdserverpb_WatchResponse>) {
        self.store = store
        self.identity = identity
        self.grant = grant
        self.outbox = outbox
    }

    func handle(_ message: Etcdserverpb_WatchRequest) async throws {
        switch message.requestUnion {
        case .createRequest(let create): await self.create(create)
        case .cancelRequest(let cancel): await self.cancel(cancel.watchID)
        case .progressRequest:
            var notice = response(-1, revision: store.revision)
            notice.events = []
            await outbox.send(notice)
        case nil: break
        }
    }

    func end() async {
        let tasks = state.withLockedValue { state in
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func response(_ id: Int64, revision: Int64) -> Etcdserverpb_WatchResponse {
        var response = Etcdserverpb_WatchResponse()
        response.header = identity.header(revision: revision)
        response.watchID = id
        return response
    }

    private func refuse(_ id: Int64, _ reason: String) async {
        var refusal = response(id, revision: store.revision)
        refusal.created = true
        refusal.canceled = true
        refusal.cancelReason = reason
        await outbox.send(refusal)
    }

    private func create(_ create: Etcdserverpb_WatchCreateRequest) async {
        guard !create.key.isEmpty else { return await refuse(-1, "etcdserver: key is not provided") }
        let range = KeyRange(key: Array(create.key), end: Array(create.rangeEnd))
        guard (try? grant.scope.check(range)) != nil else { return await refuse(-1, StoreError.permissionDenied.description) }
        let id: Int64? = state.withLockedValue { state in
            guard state.watchers.count < StoreWatchService.maximumWatchersPerStream else { return nil }
            if create.watchID > 0 {
                return state.watchers[create.watchID] == nil ? create.watchID : nil
            }
            while state.watchers[state.nextID] != nil { state.nextID += 1 }
            defer { state.nextID += 1 }
            return state.nextID
        }
        guard let id else {
            return await refuse(-1, create.watchID > 0 ? "mvcc: duplicate watch ID provided on the WatchStream" : "etcdserver: too many watchers on one stream")
        }
        let store = self.store
        let events: StoreWatch
        do {
            events = try await NIOThreadPool.singleton.runIfActive {
                try store.watch(range, startRevision: create.startRevision, prevKV: create.prevKv, progressNotify: create.progressNotify)
            }
        } catch StoreError.compacted(let compacted) {
            var created = response(id, revision: store.revision)
            created.created = true
            await outbox.send(created)
            var cancelled = response(id, revision: store.revision)
            cancelled.canceled = true
            cancelled.compactRevision = compacted
            return await outbox.send(cancelled)
        } catch {
            return await refuse(-1, (error as? StoreError)?.description ?? "\(error)")
        }
        var created = response(id, revision: store.revision)
        created.created = true
        await outbox.send(created)
        let dropPuts = create.filters.contains(.noput)
        let dropDeletes = create.filters.contains(.nodelete)
        let task = Task { [outbox, identity] in
            for await batch in events {
                let kept = batch.events.filter { $0.kind == .put ? !dropPuts : !dropDeletes }
                if kept.isEmpty, !batch.events.isEmpty { continue }  // all filtered out: not a progress notice
                var message = Etcdserverpb_WatchResponse()
                message.header = identity.header(revision: batch.revision)
                message.watchID = id
                message.events = kept.map(Mvccpb_Event.init)
                await outbox.send(message)
                if Task.isCancelled { return }
            }
            if !Task.isCancelled, let reason = events.cancelReason {
                var cancelled = Etcdserverpb_WatchResponse()
                cancelled.header = identity.header(revision: store.revision)
                cancelled.watchID = id
                cancelled.canceled = true
                cancelled.cancelReason = reason
                await outbox.send(cancelled)
            }
        }
        state.withLockedValue { $0.watchers[id] = task }
    }

    private func cancel(_ id: Int64) async {
        guard let task = state.withLockedValue({ $0.watchers.removeValue(forKey: id) }) else { return }
        task.cancel()
        await task.value
        var cancelled = response(id, revision: store.revision)
        cancelled.canceled = true
        await outbox.send(cancelled)
    }
}

extension Mvccpb_Event {
    init(_ event: StoreEvent) {
        self.init()
        type = event.kind == .put ? .put : .delete
        kv = Mvccpb_KeyValue(event.kv)
        if let prev = event.prev { prevKv = Mvccpb_KeyValue(prev) }
    }
}
