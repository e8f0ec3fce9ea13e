import LatchCore

/// Grant and task IDs.
extension TaskGrant {
    /// A new grant or task ID issued at `now` (milliseconds since the Unix epoch): a
    /// `TimeOrderedID` (the layout of a ULID), so the stores' indexes on grant and task IDs grow
    /// at one end.
    public static func newID(now: Int64) -> String { TimeOrderedID.make(now: now) }
}
