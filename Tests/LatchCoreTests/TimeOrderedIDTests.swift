import LatchCore
import Testing

@Suite("Time-ordered IDs")
struct TimeOrderedIDTests {
    static let digits = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    static let hexDigits = Set("0123456789abcdef".utf8)
    static let times: [Int64] = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_031, 1_700_000_000_032, 1_700_000_001_000, 1_800_000_000_000]

    @Test("an ID is 26 Crockford base32 digits whose first ten are the time (as a ULID's)")
    func layout() {
        for (now, prefix) in [(Int64(0), "0000000000"), (1_700_000_000_123, "01HF7YAT3V"), ((1 << 48) - 1, "7ZZZZZZZZZ")] {
            let id = TimeOrderedID.make(now: now)
            #expect(id.utf8.count == 26)
            #expect(id.utf8.allSatisfy(Self.digits.contains), "\(id)")
            #expect(id.hasPrefix(prefix), "\(id) at \(now)")
        }
    }

    @Test("IDs made later sort after earlier ones byte by byte; IDs made in the same millisecond differ")
    func order() {
        for (earlier, later) in zip(Self.times, Self.times.dropFirst()) {
            for _ in 0..<20 {
                #expect(Array(TimeOrderedID.make(now: earlier).utf8).lexicographicallyPrecedes(Array(TimeOrderedID.make(now: later).utf8)))
            }
        }
        let sameMillisecond = (0..<1000).map { _ in TimeOrderedID.make(now: Self.times[0]) }
        #expect(Set(sameMillisecond).count == 1000)
    }

    @Test("a trace ID is 32 lowercase hex digits: the time's 48 bits, then 80 random bits; later ones sort after earlier ones")
    func traceIDs() {
        for (now, prefix) in [(Int64(1), "000000000001"), (1_700_000_000_123, "018bcfe5687b"), ((1 << 48) - 1, "ffffffffffff")] {
            let id = TimeOrderedID.traceID(now: now)
            #expect(id.utf8.count == 32 && id.utf8.allSatisfy(Self.hexDigits.contains), "\(id)")
            #expect(id.hasPrefix(prefix), "\(id) at \(now)")
        }
        for (earlier, later) in zip(Self.times, Self.times.dropFirst()) {
            #expect(TimeOrderedID.traceID(now: earlier) < TimeOrderedID.traceID(now: later))
        }
        let sameMillisecond = (0..<1000).map { _ in TimeOrderedID.traceID(now: Self.times[0]) }
        #expect(Set(sameMillisecond).count == 1000)
        #expect(TimeOrderedID.hex(0xab) == "00000000000000ab")
    }
}
