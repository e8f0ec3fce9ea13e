/// Byte-wise string identity, as Cedar has it.
///
/// Swift's `String ==` and `hash(into:)` follow Unicode canonical equivalence (`"é"` precomposed
/// equals `"e"` + combining acute), but Cedar compares strings and entity IDs by their bytes. Values,
/// entity types and entity UIDs therefore compare and hash through these helpers, so that
/// `User::"\u{212B}"` never matches a policy written for `User::"\u{C5}"`.
extension String {
    /// Whether the two strings have the same UTF-8 bytes.
    @inlinable static func bytewiseEqual(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { l in rhs.withUTF8 { r in l.count == r.count && l.elementsEqual(r) } }
    }

    /// Feeds the UTF-8 bytes and their count into `hasher` (the count keeps `("ab","c")` and `("a","bc")` apart).
    @inlinable func hashBytes(into hasher: inout Hasher) {
        var copy = self
        copy.withUTF8 { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
    }
}
