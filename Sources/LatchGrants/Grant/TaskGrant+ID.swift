/// Grant and task IDs.
extension TaskGrant {
    /// A new grant or task ID issued at `now` (milliseconds since the Unix epoch): 26 characters
    /// of Crockford base32 (`0-9`, `A-Z` without `I L O U`) for 48 bits of `now` followed by 80
    /// random bits, the layout of a ULID.
    ///
    /// IDs made later sort after earlier ones byte by byte (as both stores compare text keys), so
    /// the stores' indexes on grant and task IDs grow at one end: a batch of issuances rewrites a
    /// few index pages rather than one page per grant, which with random IDs was most of the
    /// store's work per issuance (Benchmarks/Identity). The time is no secret: the token carries
    /// it (`iat`). 80 random bits keep IDs made in the same millisecond apart.
    public static func newID(now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        // 128 bits, high word first: the time's low 48 bits, then 16 random bits; then 64 random bits.
        var high = UInt64(truncatingIfNeeded: now) << 16 | (generator.next() as UInt64) >> 48
        var low: UInt64 = generator.next()
        // 26 digits of 5 bits (130 bits: the first digit's top two are zero), last digit first.
        var id = [UInt8](repeating: 0, count: 26)
        for index in id.indices.reversed() {
            id[index] = Self.idDigits[Int(low & 31)]
            low = low >> 5 | high << 59
            high >>= 5
        }
        return String(decoding: id, as: UTF8.self)
    }

    /// Crockford's base32 digits, in ASCII order.
    private static let idDigits = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
}
