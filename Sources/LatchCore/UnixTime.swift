/// A point in time as whole milliseconds since the Unix epoch (UTC), the form Latch persists.
///
/// Invariants: none beyond `Int64`; times before 1970 are negative. The arithmetic helpers
/// saturate at the representable range instead of trapping on overflow.
public struct UnixTime: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Whole seconds since the epoch, rounded toward negative infinity.
    public var seconds: Int64 {
        let (q, r) = self.milliseconds.quotientAndRemainder(dividingBy: 1000)
        return r < 0 ? q - 1 : q
    }

    /// This time moved by `milliseconds` (negative moves back), clamped to the representable range.
    public func adding(milliseconds delta: Int64) -> UnixTime {
        let (sum, overflow) = self.milliseconds.addingReportingOverflow(delta)
        if overflow { return UnixTime(milliseconds: delta > 0 ? .max : .min) }
        return UnixTime(milliseconds: sum)
    }

    /// Milliseconds from `other` to this time (positive when this is later), clamped.
    public func milliseconds(since other: UnixTime) -> Int64 {
        let (diff, overflow) = self.milliseconds.subtractingReportingOverflow(other.milliseconds)
        if overflow { return other.milliseconds < 0 ? .max : .min }
        return diff
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The millisecond count, e.g. `1767225600000`.
    public var description: String { String(self.milliseconds) }
}
