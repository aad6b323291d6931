/// Random backend choice for new connections: the `n`-th draw of a sequence is a 64-bit mix
/// of `n` (Weyl step through the MurmurHash3 finaliser), uniform enough for load spreading
/// and computable from a shared counter with no lock and no system call.
public enum RandomPick {
    /// The draw for counter value `n`.
    public static func draw(_ n: UInt64) -> UInt64 {
        StableHash.mix(n &* 0x9E37_79B9_7F4A_7C15)
    }

    /// An index in `0..<count` for counter value `n`; nil when `count` is 0.
    public static func index(_ n: UInt64, count: Int) -> Int? {
        guard count > 0 else { return nil }
        return Int(draw(n) % UInt64(count))
    }

    /// An index into `cumulative` (running sums of non-negative weights, the last one above 0)
    /// chosen with probability proportional to its weight, for the draw `draw`.
    public static func weightedIndex(_ draw: UInt64, cumulative: [Double]) -> Int {
        guard let total = cumulative.last, total > 0 else { return 0 }
        let point = Double(draw >> 11) / Double(1 << 53) * total
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > point { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
