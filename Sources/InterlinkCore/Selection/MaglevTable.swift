/// Maglev consistent hashing (Eisenbud et al., NSDI 2016).
///
/// Each backend gets a permutation of the `size` slots from two stable hashes of its address
/// (offset = h1 mod M, skip = h2 mod (M − 1) + 1); backends take turns claiming their next
/// preferred free slot until the table is full, so every backend owns ⌊M/N⌋ or ⌈M/N⌉ slots.
/// Backends are sorted first: every agent builds the same table from the same set.
///
/// The table has at least 100 slots per backend (the next prime above 100 × N once N passes
/// 163), which keeps each backend's share within about 1 %. It hashes over at most
/// `maximumBackends` (the first in address order, the same on every agent); past that a table
/// would take tens of megabytes per frontend.
public struct MaglevTable: Hashable, Sendable {
    public static let defaultSize = 16381
    public static let maximumBackends = 20_000

    /// The backends in table order (sorted).
    public let backends: [SocketEndpoint]
    /// For each slot, an index into `backends`.
    public let slots: [UInt16]

    /// - Parameter size: at least this many slots (rounded up to a prime, and to 100 per backend).
    public init(backends: [SocketEndpoint], size requested: Int = MaglevTable.defaultSize) {
        let sorted = Array(Array(Set(backends)).sorted().prefix(Self.maximumBackends))
        let size = Self.size(atLeast: requested, backends: sorted.count)
        self.backends = sorted
        guard !sorted.isEmpty else {
            self.slots = []
            return
        }
        let m = UInt64(size)
        var offsets = [UInt64](), skips = [UInt64]()
        offsets.reserveCapacity(sorted.count)
        skips.reserveCapacity(sorted.count)
        for endpoint in sorted {
            let key = Array(endpoint.description.utf8)
            offsets.append(StableHash.hash(key, seed: 0x6d61_676c_6576_3031) % m)
            skips.append(StableHash.hash(key, seed: 0x6d61_676c_6576_3032) % (m - 1) + 1)
        }
        var table = [Int32](repeating: -1, count: size)
        var next = [UInt64](repeating: 0, count: sorted.count)
        var filled = 0
        outer: while true {
            for index in sorted.indices {
                var slot = Int((offsets[index] &+ next[index] &* skips[index]) % m)
                while table[slot] >= 0 {
                    next[index] += 1
                    slot = Int((offsets[index] &+ next[index] &* skips[index]) % m)
                }
                table[slot] = Int32(index)
                next[index] += 1
                filled += 1
                if filled == size { break outer }
            }
        }
        self.slots = table.map { UInt16($0) }
    }

    /// The index in `backends` for a flow key (the hash of the client address and port).
    public func backendIndex(forHash hash: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        return Int(slots[Int(hash % UInt64(slots.count))])
    }

    /// The backend for a flow key.
    public func backend(forHash hash: UInt64) -> SocketEndpoint? {
        backendIndex(forHash: hash).map { backends[$0] }
    }

    /// The flow hash of a client address and port.
    public static func flowHash(client: SocketEndpoint) -> UInt64 {
        var bytes = client.ip.bytes
        bytes.append(UInt8(client.port >> 8))
        bytes.append(UInt8(client.port & 0xff))
        return StableHash.hash(bytes, seed: 0x666c_6f77)
    }

    /// The smallest prime ≥ `requested` and ≥ 100 × `backends`.
    public static func size(atLeast requested: Int, backends: Int) -> Int {
        var size = max(2, requested, 100 * min(backends, maximumBackends))
        while !isPrime(size) { size += 1 }
        return size
    }

    public static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        if n < 4 { return true }
        if n % 2 == 0 { return false }
        var divisor = 3
        while divisor * divisor <= n {
            if n % divisor == 0 { return false }
            divisor += 2
        }
        return true
    }
}
