public import Logging
import Synchronization

/// A swift-log handler that keeps every record, for tests that check what is (never) logged.
public struct RecordingLogHandler: LogHandler {
    /// The records kept by every handler made from one ``Records``.
    public final class Records: Sendable {
        private let lines = Mutex<[String]>([])

        public init() {}

        /// Each record as one line: level, message and metadata.
        public var all: [String] { self.lines.withLock { $0 } }

        /// A logger writing here, at `level` and above.
        public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
            var logger = Logger(label: label) { _ in RecordingLogHandler(records: self) }
            logger.logLevel = level
            return logger
        }

        fileprivate func append(_ line: String) { self.lines.withLock { $0.append(line) } }
    }

    private let records: Records
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(records: Records) { self.records = records }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.records.append("\(event.level) \(event.message) \(fields)")
    }
}
