import CedarPolicy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The streaming core of `latch policy eval`: one authorizer and entity store, built once, and a
/// loop that reads request lines and appends one answer line per request to a buffer.
struct RequestStream {
    let authorizer: Authorizer
    let entities: Entities
    let schema: Schema?

    /// Answers every line of `input` in order. Output is flushed when full and before each
    /// blocking read, so interactive producers see answers as they go.
    func run(input: LineReader, output: inout OutputBuffer) throws(CommandFailure) {
        var input = input
        var lineNumber = 0
        while let line = try input.nextLine(beforeBlocking: { output.flush() }) {
            lineNumber += 1
            self.answer(line, lineNumber: lineNumber, into: &output)
            output.flushIfFull()
        }
    }

    /// Appends the answer to one request line.
    func answer(_ line: ArraySlice<UInt8>, lineNumber: Int, into output: inout OutputBuffer) {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let response: Response
        do throws(CedarError) {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                throw CedarError(.request, "empty line")
            }
            let request = try Request(json: JSONValue(parsing: bytes), schema: self.schema)
            response = self.authorizer.isAuthorized(request, entities: self.entities)
        } catch {
            output.append("{\"error\":")
            output.appendJSONString("line \(lineNumber): \(error.description)")
            output.append("}\n")
            return
        }
        output.append(response.decision == .allow ? "{\"decision\":\"allow\",\"reason\":[" : "{\"decision\":\"deny\",\"reason\":[")
        Self.appendIDs(response.reason, to: &output)
        output.append("],\"errors\":[")
        Self.appendIDs(response.errors.map(\.policyID), to: &output)
        output.append("]}\n")
    }

    private static func appendIDs(_ ids: [String], to output: inout OutputBuffer) {
        let sorted = ids.count > 1 ? ids.sorted() : ids
        for (i, id) in sorted.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            output.appendJSONString(id)
        }
    }
}

/// Reads a file or standard input in large blocks and hands out lines (without the newline).
struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false
    private let path: String

    /// Opens `path`, or standard input for `-`.
    init(path: String) throws(CommandFailure) {
        self.path = path
        if path == "-" {
            self.fd = 0
        } else {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw CommandFailure(message: "\(path): cannot read: \(String(cString: strerror(errno)))")
            }
            self.fd = fd
        }
    }

    /// The next line, or nil at the end of input. A final line without a newline still counts;
    /// the empty remainder after a final newline does not. `beforeBlocking` runs before each read.
    mutating func nextLine(beforeBlocking: () -> Void) throws(CommandFailure) -> ArraySlice<UInt8>? {
        var scanFrom = self.start
        while true {
            if let newline = self.buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = self.buffer[self.start..<newline]
                self.start = newline + 1
                return line
            }
            if self.atEOF {
                guard self.start < self.buffer.count else { return nil }
                let line = self.buffer[self.start...]
                self.start = self.buffer.count
                return line
            }
            // Keep the partial line, drop what was consumed, and read more.
            if self.start > 0 {
                self.buffer.removeSubrange(0..<self.start)
                self.start = 0
            }
            scanFrom = self.buffer.count
            beforeBlocking()
            let chunk = 1 << 16
            let old = self.buffer.count
            self.buffer.reserveCapacity(old + chunk)
            var readCount = 0
            self.buffer.append(contentsOf: repeatElement(0, count: chunk))
            let fd = self.fd
            while true {
                readCount = self.buffer.withUnsafeMutableBufferPointer { storage in
                    guard let base = storage.baseAddress else { return -1 }
                    return read(fd, base + old, chunk)
                }
                if readCount < 0 && errno == EINTR { continue }
                break
            }
            if readCount < 0 {
                let reason = String(cString: strerror(errno))
                self.buffer.removeSubrange(old...)
                throw CommandFailure(message: "\(self.path): read failed: \(reason)")
            }
            self.buffer.removeSubrange((old + readCount)...)
            if readCount == 0 { self.atEOF = true }
        }
    }
}
