import NIOConcurrencyHelpers

/// One watch on the embedded store: its batches in revision order, until the consumer stops,
/// the store closes, or the watch is cancelled because its consumer fell behind
/// (`cancelReason` then says why).
///
/// Bounded: the events queued for the consumer and not yet read take at most `bufferBytes`
/// (`EmbeddedStore.watchBufferBytes`, 64 MiB by default);
/// a watch that would queue more is cancelled instead of growing memory (a peer that does not
/// read), as etcd cancels a watch it cannot serve. The consumer re-lists and watches again.
///
/// Threading: the store yields under its lock; the consumer iterates from any task.
public final class StoreWatch: AsyncSequence, Sendable {
    public typealias Element = StoreWatchBatch

    struct Account {
        var pendingBytes = 0
        var cancelReason: String?
        /// The stream ended (the consumer stopped, or it was finished): the store drops the
        /// watch at its next offer.
        var terminated = false
    }

    let stream: AsyncStream<StoreWatchBatch>
    let continuation: AsyncStream<StoreWatchBatch>.Continuation
    let bufferBytes: Int
    private let account = NIOLockedValueBox(Account())

    init(bufferBytes: Int) {
        self.bufferBytes = bufferBytes
        (stream, continuation) = AsyncStream.makeStream(of: StoreWatchBatch.self, bufferingPolicy: .unbounded)
        // Only the watch's own lock: the store may be finishing it under its lock.
        continuation.onTermination = { [account] _ in account.withLockedValue { $0.terminated = true } }
    }

    /// The consumer has gone or the watch was cancelled: nothing more is delivered.
    var isOver: Bool { account.withLockedValue { $0.terminated || $0.cancelReason != nil } }

    /// Why the store ended this watch early; nil while it runs or after a normal end.
    public var cancelReason: String? { account.withLockedValue { $0.cancelReason } }

    /// Queues `batch`; false when the watch is over: its consumer has gone, or the batch would
    /// pass the bound (the watch is then cancelled).
    func offer(_ batch: StoreWatchBatch) -> Bool {
        let size = batch.byteSize
        let accepted = account.withLockedValue { account -> Bool in
            guard account.cancelReason == nil, !account.terminated else { return false }
            guard account.pendingBytes + size <= bufferBytes else {
                account.cancelReason = "etcdserver: watcher fell behind: more than \(bufferBytes) bytes of events unread; list and watch again"
                return false
            }
            account.pendingBytes += size
            return true
        }
        guard accepted else {
            continuation.finish()
            return false
        }
        if case .terminated = continuation.yield(batch) { return false }
        return true
    }

    func finish() {
        continuation.finish()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<StoreWatchBatch>.AsyncIterator
        let watch: StoreWatch

        public mutating func next() async -> StoreWatchBatch? {
            guard let batch = await base.next() else { return nil }
            watch.account.withLockedValue { $0.pendingBytes -= batch.byteSize }
            return batch
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), watch: self)
    }
}

extension StoreWatchBatch {
    /// What the batch holds in memory, roughly: keys, values and previous values, plus a little
    /// per event.
    var byteSize: Int {
        events.reduce(64) { $0 + 64 + $1.kv.key.utf8.count + $1.kv.value.count + ($1.prev?.value.count ?? 0) }
    }
}
