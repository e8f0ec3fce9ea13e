/// Identifiers that sort by the time they were made: grant and task IDs (`TaskGrant.newID`) and
/// decision record IDs.
public enum TimeOrderedID {
    /// A new ID made at `now` (milliseconds since the Unix epoch): 26 characters of Crockford
    /// base32 (`0-9`, `A-Z` without `I L O U`) for 48 bits of `now` followed by 80 random bits,
    /// the layout of a ULID.
    ///
    /// IDs made later sort after earlier ones byte by byte (as both stores compare text keys), so
    /// an index on such IDs grows at one end: a batch of inserts rewrites a few index pages
    /// rather than one page per row, which with random IDs was most of a store's work per row
    /// (grant issuance: Benchmarks/Identity; ledger appends: Benchmarks/Ledger). The time is no
    /// secret (a grant's token carries it as `iat`, a record its `time`). 80 random bits keep IDs
    /// made in the same millisecond apart, and leave an ID as hard to guess as a random key of
    /// that size, though none of these IDs is a capability.
    public static func make(now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        // 128 bits, high word first: the time's low 48 bits, then 16 random bits; then 64 random bits.
        var high = UInt64(truncatingIfNeeded: now) << 16 | (generator.next() as UInt64) >> 48
        var low: UInt64 = generator.next()
        // 26 digits of 5 bits (130 bits: the first digit's top two are zero), last digit first.
        var id = [UInt8](repeating: 0, count: 26)
        for index in id.indices.reversed() {
            id[index] = Self.digits[Int(low & 31)]
            low = low >> 5 | high << 59
            high >>= 5
        }
        return String(decoding: id, as: UTF8.self)
    }

    /// Crockford's base32 digits, in ASCII order.
    private static let digits = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new W3C trace ID made at `now` (milliseconds): 32 lowercase hex digits, the time's low
    /// 48 bits then 80 random bits, so an index on trace IDs grows at one end for the traces
    /// Latch starts. W3C Trace Context asks for randomness in the rightmost 7 bytes; these 10 are.
    /// Never all zeros for a time after the epoch.
    public static func traceID(now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let high = UInt64(truncatingIfNeeded: now) << 16 | (generator.next() as UInt64) >> 48
        return Self.hex(high) + Self.hex(generator.next())
    }

    /// 16 lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
