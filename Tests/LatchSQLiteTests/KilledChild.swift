import Foundation
import LatchTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs this test binary again as a child that runs only the suite `filter` (with `variable`
/// set to `directory`), collects what follows `acked ` on each of its output lines until
/// `enough` says so (or the child ends), then kills it with SIGKILL: what the crash tests need.
enum KilledChild {
    struct Result {
        /// What the child acknowledged before it was killed, in order.
        var acked: [String]
        /// The child's output after its last complete line.
        var tail: String
        /// The child ended by a signal (the SIGKILL), not by itself.
        var killed: Bool
    }

    static func run(filter: String, variable: String, directory: String, until enough: ([String]) -> Bool) throws -> Result {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", filter]
        var environment = ProcessInfo.processInfo.environment
        environment[variable] = directory
        child.environment = environment
        child.standardError = FileHandle.nullDevice
        let output = try ProcessLaunch.start(child) {
            let output = Pipe()
            child.standardOutput = output
            return output
        }

        var acked: [String] = []
        var buffer = ""
        while !enough(acked) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            buffer += String(decoding: chunk, as: UTF8.self)
            var lines = buffer.split(separator: "\n", omittingEmptySubsequences: false)
            buffer = String(lines.removeLast())  // an incomplete last line waits for the next chunk
            for line in lines where line.hasPrefix("acked ") { acked.append(String(line.dropFirst(6))) }
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        return Result(acked: acked, tail: buffer, killed: child.terminationReason == .uncaughtSignal)
    }
}
