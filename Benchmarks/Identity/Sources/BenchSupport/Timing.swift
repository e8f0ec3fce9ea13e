// Timing and formatting shared by the identity benchmarks: rates per CPU second, median of rounds.
#if canImport(Glibc)
import Glibc
#endif

/// CPU time of this process, seconds.
public func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// `BENCH_ROUNDS` (default 7) rounds of at least `BENCH_ROUND_SECONDS` (default 0.4) CPU seconds.
public let rounds = Int(getenv("BENCH_ROUNDS").map { String(cString: $0) } ?? "") ?? 7
public let roundSeconds = Double(getenv("BENCH_ROUND_SECONDS").map { String(cString: $0) } ?? "") ?? 0.4

/// Operations per CPU second: the median over rounds of `body` run repeatedly (`name` labels the
/// call site only).
public func rate(_ name: String = "", _ body: () throws -> Void) rethrows -> Double {
    var rates: [Double] = []
    for _ in 0..<rounds {
        var n = 0
        let start = cpuSeconds()
        var elapsed = 0.0
        repeat {
            for _ in 0..<16 { try body() }
            n += 16
            elapsed = cpuSeconds() - start
        } while elapsed < roundSeconds
        rates.append(Double(n) / elapsed)
    }
    rates.sort()
    return rates[rates.count / 2]
}

public func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
public func fmt(_ x: Double) -> String { String(Int(x.rounded())) }
public func pct(_ x: Double) -> String { String(Int((x * 100).rounded())) + "%" }
