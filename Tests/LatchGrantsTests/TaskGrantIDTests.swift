import LatchGrants
import Testing

@Suite("Grant and task IDs")
struct TaskGrantIDTests {
    static let digits = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    @Test("an ID is 26 Crockford base32 digits whose first ten are the time (as a ULID's)")
    func layout() {
        for (now, prefix) in [(Int64(0), "0000000000"), (1_700_000_000_123, "01HF7YAT3V"), ((1 << 48) - 1, "7ZZZZZZZZZ")] {
            let id = TaskGrant.newID(now: now)
            #expect(id.utf8.count == 26)
            #expect(id.utf8.allSatisfy(Self.digits.contains), "\(id)")
            #expect(id.hasPrefix(prefix), "\(id) at \(now)")
        }
    }

    @Test("IDs made later sort after earlier ones byte by byte; IDs made in the same millisecond differ")
    func order() {
        let times: [Int64] = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_031, 1_700_000_000_032, 1_700_000_001_000, 1_800_000_000_000]
        for (earlier, later) in zip(times, times.dropFirst()) {
            for _ in 0..<20 {
                #expect(Array(TaskGrant.newID(now: earlier).utf8).lexicographicallyPrecedes(Array(TaskGrant.newID(now: later).utf8)))
            }
        }
        let sameMillisecond = (0..<1000).map { _ in TaskGrant.newID(now: times[0]) }
        #expect(Set(sameMillisecond).count == 1000)
    }
}
