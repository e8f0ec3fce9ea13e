import LatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a secret typed at a terminal.
enum TerminalInput {
    /// Writes `prompt` to standard error, turns echo off on the terminal on standard input, and
    /// reads one line (without its newline), at most `limit` bytes. Echo is restored before it
    /// returns or throws.
    static func readHidden(prompt: String, limit: Int) throws(LatchError) -> [UInt8] {
        PolicyCommand.writeError(prompt)
        var saved = termios()
        let canHide = tcgetattr(0, &saved) == 0
        if canHide {
            var hidden = saved
            hidden.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(0, TCSAFLUSH, &hidden)
        }
        defer {
            if canHide { _ = tcsetattr(0, TCSAFLUSH, &saved) }
            PolicyCommand.writeError("")
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n < 0 {
                if errno == EINTR { continue }
                throw LatchError(.io, "cannot read standard input (errno \(errno))")
            }
            if n == 0 || byte == UInt8(ascii: "\n") { return line }
            line.append(byte)
            if line.count > limit { throw LatchError(.invalidInput, "standard input is larger than \(limit) bytes") }
        }
    }
}
