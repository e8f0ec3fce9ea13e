/// An incremental parser of a `text/event-stream` body (the WHATWG server-sent events format, as
/// MCP's Streamable HTTP transport uses it): feed it bytes as they arrive, take complete events.
///
/// Lines end with CRLF, LF or CR; `data:` lines of one event are joined with LF; an empty line
/// ends the event; comments (`:`) and unknown fields are skipped. One event's data is limited to
/// `maxEventBytes`.
package struct ServerSentEventParser: Sendable {
    package struct Event: Hashable, Sendable {
        /// The `event:` field; "message" when absent.
        package var type: String
        package var data: [UInt8]
        /// The `id:` field, if any.
        package var id: String?
    }

    package struct TooLarge: Error {}

    private let maxEventBytes: Int
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var type: String?
    private var data: [UInt8] = []
    private var hasData = false
    private var id: String?

    package init(maxEventBytes: Int) {
        self.maxEventBytes = maxEventBytes
    }

    /// Consumes bytes; returns the events they complete.
    package mutating func feed(_ bytes: some Sequence<UInt8>) throws(TooLarge) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if self.lastWasCR {
                self.lastWasCR = false
                if byte == 0x0A { continue }  // the LF of a CRLF
            }
            switch byte {
            case 0x0A, 0x0D:
                self.lastWasCR = byte == 0x0D
                if let event = try self.endLine() { events.append(event) }
            default:
                self.line.append(byte)
                if self.line.count > self.maxEventBytes + 16 { throw TooLarge() }
            }
        }
        return events
    }

    private mutating func endLine() throws(TooLarge) -> Event? {
        defer { self.line.removeAll(keepingCapacity: true) }
        if self.line.isEmpty {
            defer {
                self.type = nil
                self.data.removeAll()
                self.hasData = false
            }
            guard self.hasData else { return nil }
            return Event(type: self.type ?? "message", data: self.data, id: self.id)
        }
        if self.line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = self.line.firstIndex(of: UInt8(ascii: ":")) {
            field = self.line[..<colon]
            value = self.line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = self.line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            if self.hasData { self.data.append(0x0A) }
            self.data.append(contentsOf: value)
            self.hasData = true
            if self.data.count > self.maxEventBytes { throw TooLarge() }
        case "event":
            self.type = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { self.id = String(decoding: value, as: UTF8.self) }
        default:
            break  // retry and unknown fields
        }
        return nil
    }
}
