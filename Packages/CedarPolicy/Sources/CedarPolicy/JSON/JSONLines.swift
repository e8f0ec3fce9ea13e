/// JSON Lines (one JSON value per line) read lazily from a byte buffer.
///
/// Lines are split on `\n` (a trailing `\r` is ignored); blank lines are skipped. Each element is
/// the 1-based line number and the parse result, so one bad line does not stop the stream, and
/// error locations carry the line number and byte offset within the whole buffer.
public struct JSONLines: Sequence, Sendable {
    public let bytes: [UInt8]
    public let limits: JSONValue.Limits

    public init(_ bytes: [UInt8], limits: JSONValue.Limits = .default) {
        self.bytes = bytes
        self.limits = limits
    }

    public struct Element: Sendable {
        /// 1-based line number in the buffer.
        public var line: Int
        public var result: Result<JSONValue, CedarError>
    }

    public func makeIterator() -> Iterator { Iterator(bytes: self.bytes, limits: self.limits) }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        let limits: JSONValue.Limits
        var pos = 0
        var line = 0

        public mutating func next() -> Element? {
            let limits = self.limits
            return self.bytes.withUnsafeBufferPointer { buf -> Element? in
                while self.pos < buf.count {
                    let start = self.pos
                    var end = start
                    while end < buf.count && buf[end] != 0x0A { end += 1 }
                    self.pos = end + 1
                    self.line += 1
                    var last = end
                    if last > start && buf[last - 1] == 0x0D { last -= 1 }
                    var blank = true
                    for i in start..<last where buf[i] != 0x20 && buf[i] != 0x09 {
                        blank = false
                        break
                    }
                    if blank { continue }
                    let slice = UnsafeBufferPointer(rebasing: buf[start..<last])
                    let result = JSONParser.parse(slice, limits: limits, baseOffset: start, baseLine: self.line)
                    return Element(line: self.line, result: result)
                }
                return nil
            }
        }
    }
}
