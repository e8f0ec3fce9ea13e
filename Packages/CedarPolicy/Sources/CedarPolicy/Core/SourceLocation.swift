/// A position in source text. Equality of AST nodes ignores it.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// Byte offset from the start of the text (UTF-8).
    public var offset: Int
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int

    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    public static let unknown = SourceLocation(offset: 0, line: 0, column: 0)
    public var description: String { "\(self.line):\(self.column)" }
}
