public import LatchCore
import Synchronization

/// A wall clock that tests set and advance by hand.
public final class TestWallClock: WallClock, Sendable {
    private let current: Mutex<UnixTime>

    public init(_ start: UnixTime = UnixTime(milliseconds: 1_767_225_600_000)) {
        self.current = Mutex(start)
    }

    public func now() -> UnixTime { self.current.withLock { $0 } }

    /// Moves the clock forward (or back, with a negative value).
    public func advance(milliseconds: Int64) {
        self.current.withLock { $0 = $0.adding(milliseconds: milliseconds) }
    }

    public func advance(seconds: Int64) { self.advance(milliseconds: seconds * 1000) }

    public func set(_ time: UnixTime) { self.current.withLock { $0 = time } }
}
