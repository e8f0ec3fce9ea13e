// libFuzzer entry point for CedarPolicy's parsers and JSON readers. Built by run.sh together with the library
// sources as one module (so no `import`); see README.md.

/// Feeds one fuzzer input to a reader chosen by its first byte; errors are expected, crashes and hangs are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func cedarFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let text = String(decoding: bytes, as: UTF8.self)
    switch data[0] % 4 {
    case 0:
        _ = try? CedarParser.parsePolicies(text)
        _ = try? PolicySet(parsing: text)
    case 1:
        _ = try? Schema(parsingCedar: text)
    case 2:
        _ = try? Schema(parsingJSON: text)
    default:
        if let value = try? JSONValue(parsing: bytes) {
            _ = try? Entities(json: value)
            _ = try? Request(json: value)
            _ = try? PolicySet(json: value)
            _ = try? Schema(json: value)
        }
    }
    return 0
}
