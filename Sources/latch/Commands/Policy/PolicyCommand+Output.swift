import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing to standard output and error, and building JSON output by hand (fast and exact).
extension PolicyCommand {
    /// Writes `text` to standard output as is.
    static func writeOut(_ text: String) {
        var text = text
        text.withUTF8 { OutputBuffer.writeAll(fd: 1, $0) }
    }

    /// Writes `text` and a newline to standard error.
    static func writeError(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        line.withUTF8 { OutputBuffer.writeAll(fd: 2, $0) }
    }

    /// `text` as a JSON string literal, quotes included.
    static func jsonString(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        OutputBuffer.appendJSONString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// A byte buffer in front of a file descriptor: output is written in large blocks, and whenever
/// the caller is about to block on input (so a process feeding requests one at a time still
/// sees each answer).
struct OutputBuffer {
    private(set) var bytes: [UInt8] = []
    let fd: Int32
    let limit: Int

    init(fd: Int32, limit: Int = 1 << 16) {
        self.fd = fd
        self.limit = limit
        self.bytes.reserveCapacity(limit + 1024)
    }

    mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func append(_ byte: UInt8) { self.bytes.append(byte) }

    /// Appends `text` as a JSON string literal.
    mutating func appendJSONString(_ text: String) { Self.appendJSONString(text, to: &self.bytes) }

    /// Writes the buffer if it has grown past its limit.
    mutating func flushIfFull() {
        if self.bytes.count >= self.limit { self.flush() }
    }

    mutating func flush() {
        guard !self.bytes.isEmpty else { return }
        self.bytes.withUnsafeBufferPointer { Self.writeAll(fd: self.fd, $0) }
        self.bytes.removeAll(keepingCapacity: true)
    }

    /// Writes every byte, retrying on short writes and interrupts; gives up silently on a closed pipe.
    static func writeAll(fd: Int32, _ buffer: UnsafeBufferPointer<UInt8>) {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let n = write(fd, base, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            remaining -= n
            base += n
        }
    }

    /// Appends `text` as a JSON string literal (RFC 8259 escapes; non-ASCII stays UTF-8).
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
