import Testing

@testable import LatchGateway

@Suite("ServerSentEventParser")
struct ServerSentEventParserTests {
    static func parse(_ chunks: [String], limit: Int = 1 << 20) throws -> [ServerSentEventParser.Event] {
        var parser = ServerSentEventParser(maxEventBytes: limit)
        var events: [ServerSentEventParser.Event] = []
        for chunk in chunks { events += try parser.feed(Array(chunk.utf8)) }
        return events
    }

    static func text(_ event: ServerSentEventParser.Event) -> String { String(decoding: event.data, as: UTF8.self) }

    @Test("events end at a blank line, with LF, CRLF or CR line ends")
    func lineEnds() throws {
        for newline in ["\n", "\r\n", "\r"] {
            let events = try Self.parse(["event: message\(newline)data: {\"a\":1}\(newline)\(newline)data:two\(newline)\(newline)"])
            #expect(events.map(Self.text) == ["{\"a\":1}", "two"])
            #expect(events.map(\.type) == ["message", "message"])
        }
    }

    @Test("data lines join with LF; comments, unknown fields and data-less events are skipped; id is kept")
    func fields() throws {
        let events = try Self.parse([": keep-alive\n\nid: 7\nretry: 1000\nevent: note\ndata: first\ndata:second\nfoo: bar\n\n"])
        #expect(events.count == 1)
        #expect(events.first.map(Self.text) == "first\nsecond")
        #expect(events.first?.type == "note")
        #expect(events.first?.id == "7")
    }

    @Test("an event split across chunks anywhere, even inside a CRLF, comes out whole once")
    func chunked() throws {
        let stream = "data: {\"jsonrpc\":\"2.0\"}\r\n\r\ndata: x\r\n\r\n"
        for cut in 1..<stream.utf8.count {
            let bytes = Array(stream.utf8)
            let parts = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            #expect(try Self.parse(parts).map(Self.text) == ["{\"jsonrpc\":\"2.0\"}", "x"], "cut at \(cut)")
        }
    }

    @Test("an event over the limit is refused")
    func limit() {
        #expect(throws: ServerSentEventParser.TooLarge.self) { try Self.parse(["data: " + String(repeating: "x", count: 100) + "\n\n"], limit: 64) }
        #expect(throws: ServerSentEventParser.TooLarge.self) {
            try Self.parse(Array(repeating: "data: " + String(repeating: "y", count: 40) + "\n", count: 3), limit: 64)
        }
    }
}
