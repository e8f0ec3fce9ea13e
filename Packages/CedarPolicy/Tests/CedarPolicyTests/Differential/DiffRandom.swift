/// SplitMix64: a tiny seedable generator whose sequence depends only on the seed.
///
/// The differential generator draws every choice from it (never from the system generator, and never
/// through `Int.random(in:using:)`, whose algorithm is the standard library's to change), so a seed
/// reproduces a case exactly on any machine.
struct DiffRandom {
    private(set) var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (`n` > 0).
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(0)")
        return Int(self.next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A number in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + self.below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double(self.next() >> 11) / Double(1 << 53) < p
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[self.below(items.count)]
    }

    /// A random subset of `items`, each kept with probability `p`.
    mutating func subset<T>(_ items: [T], _ p: Double) -> [T] {
        items.filter { _ in self.chance(p) }
    }

    /// Picks an index by weight.
    mutating func weighted(_ weights: [Int]) -> Int {
        let total = weights.reduce(0, +)
        var r = self.below(total)
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }
}
