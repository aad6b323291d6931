import InterlinkCore
import Testing

struct RandomPickTests {
    @Test("draws spread evenly over any backend count", arguments: [2, 3, 7, 10, 64])
    func uniform(_ count: Int) {
        let draws = 2000 * count
        var hits = [Int](repeating: 0, count: count)
        for n in UInt64(1_000)..<UInt64(1_000 + draws) {
            hits[RandomPick.index(n, count: count)!] += 1
        }
        for hit in hits {
            #expect(abs(hit - 2000) <= 200, "\(hit) of \(draws) draws, fair share 2000")
        }
    }

    @Test("consecutive draws do not cycle through backends in order")
    func notRoundRobin() {
        let picks = (UInt64(0)..<300).map { RandomPick.index($0, count: 3)! }
        let repeats = zip(picks, picks.dropFirst()).filter { $0 == $1 }.count
        #expect(repeats > 60 && repeats < 140, "about a third of neighbours repeat: \(repeats)")
    }

    @Test("no backends, no pick")
    func empty() {
        #expect(RandomPick.index(7, count: 0) == nil)
    }

    @Test("a weighted pick follows the weights, and a weight of 0 is never chosen", arguments: [[3.0, 1.0], [0.5, 0.3, 0.2], [1.0, 0.0, 1.0]])
    func weighted(_ weights: [Double]) {
        var sum = 0.0
        let cumulative = weights.map { weight in
            sum += weight
            return sum
        }
        var hits = [Int](repeating: 0, count: weights.count)
        let draws = 20_000
        for n in UInt64(0)..<UInt64(draws) { hits[RandomPick.weightedIndex(RandomPick.draw(n), cumulative: cumulative)] += 1 }
        for (index, weight) in weights.enumerated() {
            let expected = Double(draws) * weight / sum
            #expect(abs(Double(hits[index]) - expected) <= 0.03 * Double(draws), "backend \(index): \(hits[index]) of \(draws), expected \(Int(expected))")
            if weight == 0 { #expect(hits[index] == 0) }
        }
    }
}
