#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of the current calendar time, for times that are persisted or compared with other
/// machines (issued-at, expiry, audit timestamps).
///
/// Domain code takes a `WallClock` instead of reading the system clock, so tests can fix time.
/// For timeouts and intervals use `any Clock<Duration>` instead: wall time can jump.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> UnixTime
}

/// The operating system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> UnixTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UnixTime(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}

/// A clock that always says the same time: for tests and for replaying recorded decisions.
public struct FixedWallClock: WallClock {
    public let time: UnixTime
    public init(_ time: UnixTime) { self.time = time }
    public func now() -> UnixTime { self.time }
}
