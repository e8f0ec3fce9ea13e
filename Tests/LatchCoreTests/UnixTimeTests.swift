import LatchCore
import Testing

@Suite("UnixTime and WallClock")
struct UnixTimeTests {
    @Test(
        "seconds round toward negative infinity",
        arguments: [
            (Int64(0), Int64(0)), (1999, 1), (-1, -1), (-1000, -1), (-1001, -2), (1_767_225_600_123, 1_767_225_600),
        ])
    func seconds(milliseconds: Int64, seconds: Int64) {
        #expect(UnixTime(milliseconds: milliseconds).seconds == seconds)
    }

    @Test("adding saturates instead of trapping")
    func addingSaturates() {
        #expect(UnixTime(milliseconds: 10).adding(milliseconds: 5) == UnixTime(milliseconds: 15))
        #expect(UnixTime(milliseconds: .max - 1).adding(milliseconds: 10) == UnixTime(milliseconds: .max))
        #expect(UnixTime(milliseconds: .min + 1).adding(milliseconds: -10) == UnixTime(milliseconds: .min))
    }

    @Test("differences are signed and saturate")
    func differences() {
        let a = UnixTime(milliseconds: 1_000)
        let b = UnixTime(milliseconds: 400)
        #expect(a.milliseconds(since: b) == 600)
        #expect(b.milliseconds(since: a) == -600)
        #expect(UnixTime(milliseconds: .max).milliseconds(since: UnixTime(milliseconds: -1)) == .max)
        #expect(UnixTime(milliseconds: .min).milliseconds(since: UnixTime(milliseconds: 1)) == .min)
    }

    @Test("times order by their millisecond count")
    func ordering() {
        #expect(UnixTime(milliseconds: -5) < UnixTime(milliseconds: 3))
        #expect([UnixTime(milliseconds: 3), UnixTime(milliseconds: 1)].sorted().map(\.milliseconds) == [1, 3])
        #expect(UnixTime(milliseconds: 42).description == "42")
    }

    @Test("the system clock reads a plausible present and does not go backwards between two reads")
    func systemClock() {
        let clock: any WallClock = SystemWallClock()
        let first = clock.now()
        let second = clock.now()
        // 2024-01-01 and 2100-01-01 bound any machine this runs on.
        #expect(first.milliseconds > 1_704_067_200_000)
        #expect(first.milliseconds < 4_102_444_800_000)
        #expect(second.milliseconds(since: first) >= 0)
    }

    @Test("a fixed clock always returns its time")
    func fixedClock() {
        let clock: any WallClock = FixedWallClock(UnixTime(milliseconds: 7))
        #expect(clock.now() == UnixTime(milliseconds: 7))
        #expect(clock.now() == clock.now())
    }
}
