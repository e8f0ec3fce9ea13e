/// A compiled `like` pattern: Cedar's glob (`*` matches any run of Unicode scalars, everything
/// else matches itself), matched in O(n + m) time for a text of n and a pattern of m bytes.
///
/// The pattern is split at its wildcards into literal segments. Without a wildcard the text must
/// equal the single segment. Otherwise the first segment must be a prefix of the text, the last a
/// suffix (not overlapping the prefix), and each middle segment is placed at its leftmost
/// occurrence after the previous one, found with Knuth–Morris–Pratt. Leftmost placement is optimal
/// when `*` is the only wildcard, so this answers exactly as backtracking would.
///
/// Matching works on UTF-8 bytes, which is the same as matching scalars: UTF-8 is self-synchronising,
/// so a valid encoded segment can only occur in valid text at scalar boundaries.
///
/// Invariants: `segments.count == 1` iff the pattern has no wildcard; `failure[i]` is the KMP
/// failure table of `segments[i]` for the middle segments (empty elsewhere).
struct LikeMatcher: Sendable {
    private let segments: [[UInt8]]
    private let failure: [[Int]]

    init(_ pattern: [Unicode.Scalar?]) {
        var segments: [[UInt8]] = [[]]
        for element in pattern {
            if let scalar = element {
                segments[segments.count - 1].append(contentsOf: scalar.utf8)
            } else {
                segments.append([])
            }
        }
        self.segments = segments
        self.failure = segments.indices.map { i in
            i > 0 && i < segments.count - 1 ? Self.failureTable(segments[i]) : []
        }
    }

    /// Whether `text` matches the pattern.
    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { self.matches($0) }
    }

    private func matches(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = self.segments[0]
        guard self.segments.count > 1 else { return t.elementsEqual(first) }
        let last = self.segments[self.segments.count - 1]
        guard t.count >= first.count + last.count else { return false }
        guard t[0..<first.count].elementsEqual(first), t[(t.count - last.count)...].elementsEqual(last) else { return false }
        var position = first.count
        let end = t.count - last.count
        for i in 1..<(self.segments.count - 1) where !self.segments[i].isEmpty {
            guard let found = Self.find(self.segments[i], self.failure[i], in: t, from: position, to: end) else { return false }
            position = found + self.segments[i].count
        }
        return true
    }

    /// The KMP failure table: `table[i]` is the length of the longest proper border of `needle[0...i]`.
    private static func failureTable(_ needle: [UInt8]) -> [Int] {
        var table = [Int](repeating: 0, count: needle.count)
        var k = 0
        var i = 1
        while i < needle.count {
            if needle[i] == needle[k] {
                k += 1
                table[i] = k
                i += 1
            } else if k > 0 {
                k = table[k - 1]
            } else {
                table[i] = 0
                i += 1
            }
        }
        return table
    }

    /// The leftmost start of `needle` (non-empty) wholly inside `t[from..<to]`, in O(to - from) steps.
    private static func find(_ needle: [UInt8], _ table: [Int], in t: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        var k = 0
        var i = from
        while i < to {
            if t[i] == needle[k] {
                k += 1
                i += 1
                if k == needle.count { return i - k }
            } else if k > 0 {
                k = table[k - 1]
            } else {
                i += 1
            }
        }
        return nil
    }
}
