import LatchTesting
import Logging
import Testing

@testable import LatchServer

@Suite("DeferredMetadataLogHandler")
struct DeferredMetadataLogHandlerTests {
    static func logger(_ records: RecordingLogHandler.Records) -> Logger {
        var logger = Logger(label: "test") { _ in DeferredMetadataLogHandler(RecordingLogHandler(records: records)) }
        logger.logLevel = .info
        return logger
    }

    @Test("a written message carries the logger's metadata, its own metadata wins, filtered messages write nothing")
    func metadataPerMessage() {
        let records = RecordingLogHandler.Records()
        var logger = Self.logger(records)
        logger[metadataKey: "hb.request.id"] = "r1"
        logger[metadataKey: "task.id"] = "t1"
        logger.debug("filtered", metadata: ["task.id": "t0"])
        logger.info("hello", metadata: ["task.id": "t2", "tool.name": "echo"])
        logger[metadataKey: "task.id"] = nil
        logger.notice("again")
        #expect(records.all == ["info hello hb.request.id=r1 task.id=t2 tool.name=echo", "notice again hb.request.id=r1"])
        #expect(logger[metadataKey: "hb.request.id"] == "r1")
        #expect(logger.logLevel == .info)
    }

    @Test("metadata is a value: a copy's changes leave the original alone")
    func valueSemantics() {
        let records = RecordingLogHandler.Records()
        var original = Self.logger(records)
        original[metadataKey: "a"] = "1"
        var copy = original
        copy[metadataKey: "a"] = "2"
        copy.logLevel = .error
        original.info("original")
        copy.info("filtered in the copy")
        copy.error("copy")
        #expect(records.all == ["info original a=1", "error copy a=2"])
    }
}
