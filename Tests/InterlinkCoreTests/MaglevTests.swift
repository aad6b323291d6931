import InterlinkCore
import Testing

struct MaglevTests {
    static func endpoints(_ count: Int) -> [SocketEndpoint] {
        (0..<count).map { SocketEndpoint(ip: IPAddress("127.\($0 / 250).\($0 % 250).1")!, port: 8080) }
    }

    @Test("every backend owns M/N slots within 2 %", arguments: [1, 2, 3, 7, 10, 33, 50, 99, 100])
    func balance(_ n: Int) {
        let table = MaglevTable(backends: Self.endpoints(n))
        var owned = [Int](repeating: 0, count: n)
        for slot in table.slots { owned[Int(slot)] += 1 }
        let fair = Double(MaglevTable.defaultSize) / Double(n)
        for count in owned {
            #expect(abs(Double(count) - fair) <= fair * 0.02, "\(count) slots vs fair \(fair)")
        }
    }

    @Test("removing 1 of N backends re-maps at most 1/N + 2 % of the slots", arguments: [2, 3, 5, 10, 20, 50, 100])
    func disruption(_ n: Int) {
        let all = Self.endpoints(n)
        let before = MaglevTable(backends: all)
        for removed in [0, n / 2, n - 1] {
            var rest = all
            rest.remove(at: removed)
            let after = MaglevTable(backends: rest)
            var moved = 0
            for slot in 0..<MaglevTable.defaultSize where before.backends[Int(before.slots[slot])] != after.backends[Int(after.slots[slot])] {
                moved += 1
            }
            let fraction = Double(moved) / Double(MaglevTable.defaultSize)
            #expect(fraction <= 1.0 / Double(n) + 0.02, "removing #\(removed) of \(n) moved \(fraction)")
        }
    }

    @Test("the same backends in any order build the same table")
    func orderIndependent() {
        let backends = Self.endpoints(25)
        let reference = MaglevTable(backends: backends)
        #expect(MaglevTable(backends: backends.reversed()) == reference)
        #expect(MaglevTable(backends: backends.shuffled()) == reference)
        #expect(MaglevTable(backends: backends + backends.prefix(3)) == reference, "duplicates do not change it")
    }

    @Test("a flow always maps to the same backend, and flows spread")
    func flowsAreStable() {
        let table = MaglevTable(backends: Self.endpoints(4))
        let client = SocketEndpoint("127.1.1.20:40000")!
        let first = table.backend(forHash: MaglevTable.flowHash(client: client))
        #expect(table.backend(forHash: MaglevTable.flowHash(client: client)) == first)
        var seen: Set<SocketEndpoint> = []
        for port in 40000..<40200 {
            seen.insert(table.backend(forHash: MaglevTable.flowHash(client: SocketEndpoint(ip: client.ip, port: UInt16(port))))!)
        }
        #expect(seen.count == 4)
    }

    @Test("the table size is prime")
    func primeSize() {
        #expect(MaglevTable.isPrime(MaglevTable.defaultSize))
        #expect(MaglevTable(backends: Self.endpoints(3)).slots.count == 16381)
        #expect(MaglevTable(backends: []).backend(forHash: 1) == nil)
    }

    @Test("past 163 backends the table grows to the next prime above 100 × N, and stays within 1 %", arguments: [164, 1000, 5000])
    func growsWithBackends(_ n: Int) {
        let table = MaglevTable(backends: Self.endpoints(n))
        #expect(table.slots.count >= 100 * n)
        #expect(MaglevTable.isPrime(table.slots.count))
        var owned = [Int](repeating: 0, count: n)
        for slot in table.slots { owned[Int(slot)] += 1 }
        let fair = Double(table.slots.count) / Double(n)
        #expect(owned.allSatisfy { abs(Double($0) - fair) <= fair * 0.01 + 1 })
    }

    @Test("more backends than a table holds: the first maximumBackends in address order, the same on every agent")
    func capsBackends() {
        let all = (0..<(MaglevTable.maximumBackends + 500)).map { SocketEndpoint(ip: IPAddress("127.0.\($0 / 250 % 256).\($0 % 250 + 1)")!, port: UInt16(1000 + $0 / 64000)) }
        let table = MaglevTable(backends: all.shuffled())
        #expect(table.backends.count == MaglevTable.maximumBackends)
        #expect(table.backends == Array(Set(all).sorted().prefix(MaglevTable.maximumBackends)))
        #expect(table.slots.allSatisfy { Int($0) < table.backends.count })
    }

    @Test("the size is the next prime at or above the request and 100 slots per backend", arguments: [(0, 101), (100, 101), (16380, 16381)])
    func roundsSizeUp(_ requested: Int, _ expected: Int) {
        #expect(MaglevTable.size(atLeast: requested, backends: 1) == expected)
    }
}
