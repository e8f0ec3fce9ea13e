public import Logging

/// A log handler that keeps its metadata as a plain dictionary and hands it to `Inner` only when a
/// message is written, as that message's metadata.
///
/// swift-log's `StreamLogHandler` formats all of its metadata every time any of it is set, whether
/// or not anything is logged afterwards. Hummingbird sets a request ID on every request's logger,
/// so with the stream handler directly each request paid for formatting metadata that a server
/// logging at `info` or above never writes. Wrapped, the same lines come out (the stream handler
/// formats a message's metadata the same way), and setting metadata costs a dictionary update.
public struct DeferredMetadataLogHandler<Inner: LogHandler>: LogHandler {
    private var inner: Inner
    public var metadata: Logger.Metadata = [:]

    /// - Parameter inner: writes the messages; its own metadata is left empty.
    public init(_ inner: Inner) { self.inner = inner }

    public var logLevel: Logger.Level {
        get { self.inner.logLevel }
        set { self.inner.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { self.inner.metadataProvider }
        set { self.inner.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !self.metadata.isEmpty {
            event.metadata = self.metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        self.inner.log(event: event)
    }
}

extension DeferredMetadataLogHandler where Inner == StreamLogHandler {
    /// Lines on standard error, as `StreamLogHandler.standardError` writes them, at `level` and above.
    public static func standardError(label: String, level: Logger.Level) -> Self {
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return Self(handler)
    }
}
