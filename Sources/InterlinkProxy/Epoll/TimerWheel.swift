/// A hashed timer wheel: the connect, probe, idle and accept-retry deadlines of one event loop.
///
/// Scheduling appends to one slot (no allocation once slots have grown) and nothing is ever
/// cancelled: when an entry fires, the loop checks whether it still applies (the socket's
/// generation and state) and against the real deadline it keeps itself. A cancel is free and
/// the cost per connection stays flat however many are open. A deadline further out than one
/// turn of the wheel fires after about one turn, early: the loop sees its real deadline has not
/// come and schedules again.
///
/// Threading: owned by one event loop; a value type with no locks.
struct TimerWheel {
    /// What a deadline is for; the loop decides what firing means.
    enum Kind: UInt8 {
        case connect, probe, idle, acceptRetry
    }

    struct Entry: Equatable {
        var fd: Int32
        var generation: UInt32
        var kind: Kind
        /// Monotonic nanoseconds.
        var due: UInt64
    }

    let tick: UInt64
    private var slots: [[Entry]]
    /// The earliest tick that may hold an entry; every entry's due time is in
    /// [cursor, cursor + slots.count) ticks.
    private var cursor: UInt64
    private(set) var count = 0

    /// `tick` nanoseconds per slot, `slotCount` slots per turn (10 ms × 1024: about 10 s).
    init(now: UInt64, tick: UInt64 = 10_000_000, slotCount: Int = 1024) {
        self.tick = tick
        self.slots = Array(repeating: [], count: slotCount)
        self.cursor = now / tick
    }

    /// The latest due time an entry may have now: later ones are brought forward to it.
    var horizon: UInt64 { (cursor + UInt64(slots.count)) * tick - 1 }

    mutating func schedule(_ requested: Entry) {
        var entry = requested
        entry.due = min(entry.due, horizon)
        let index = max(entry.due / tick, cursor)
        slots[Int(index % UInt64(slots.count))].append(entry)
        count += 1
    }

    /// Moves every entry due by `now` into `fired` (in no particular order).
    mutating func expire(now: UInt64, into fired: inout [Entry]) {
        let target = now / tick
        guard target >= cursor else { return }
        guard count > 0 else {
            cursor = target
            return
        }
        let turn = UInt64(slots.count)
        // After a sleep of a turn or more every slot is due: one pass over them is enough.
        let steps = min(target - cursor + 1, turn)
        for step in 0..<steps {
            let slot = Int((cursor + step) % turn)
            guard !slots[slot].isEmpty else { continue }
            var kept = 0
            for position in slots[slot].indices {
                let entry = slots[slot][position]
                if entry.due <= now {
                    fired.append(entry)
                    count -= 1
                } else {
                    slots[slot][kept] = entry
                    kept += 1
                }
            }
            slots[slot].removeSubrange(kept...)
        }
        cursor = target
    }

    /// Milliseconds until the earliest entry is due (0 if one is due now), or -1 when the
    /// wheel is empty: the epoll_wait timeout.
    func millisecondsToNext(now: UInt64) -> Int32 {
        guard count > 0 else { return -1 }
        let turn = UInt64(slots.count)
        for step in 0..<turn {
            let slot = slots[Int((cursor + step) % turn)]
            guard let due = slot.lazy.map(\.due).min() else { continue }
            return due <= now ? 0 : Int32(clamping: (due - now + 999_999) / 1_000_000)
        }
        return 0
    }
}
