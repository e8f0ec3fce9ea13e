import LatchCore

/// Writes a JSON object's members straight into RFC 8785 bytes, for records whose keys are
/// known: the caller writes members in canonical order (RFC 8785 §3.2.3, by UTF-16 code units),
/// and a test compares the result with ``JSONValue``'s generic serializer. Scalars go through
/// ``CanonicalJSON``, as ``JSONValue`` writes them; a nil optional writes no member.
struct CanonicalObjectWriter {
    private var out: [UInt8] = []
    /// Whether the innermost open object has no member yet.
    private var empty = true

    /// Opens the outermost object.
    init(capacity: Int) {
        self.out.reserveCapacity(capacity)
        self.out.append(UInt8(ascii: "{"))
    }

    /// `"key":`, after a comma unless it is the object's first member.
    mutating func name(_ key: String) {
        if !self.empty { self.out.append(UInt8(ascii: ",")) }
        self.empty = false
        CanonicalJSON.appendString(key, to: &self.out)
        self.out.append(UInt8(ascii: ":"))
    }

    mutating func string(_ key: String, _ value: String?) {
        guard let value else { return }
        self.name(key)
        CanonicalJSON.appendString(value, to: &self.out)
    }

    mutating func int(_ key: String, _ value: Int64) {
        self.name(key)
        CanonicalJSON.appendInteger(value, to: &self.out)
    }

    mutating func bool(_ key: String, _ value: Bool) {
        self.name(key)
        self.out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func strings(_ key: String, _ values: [String]) {
        self.name(key)
        self.out.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { self.out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(value, to: &self.out)
        }
        self.out.append(UInt8(ascii: "]"))
    }

    /// Opens an object as the value of `key`; its members follow, then ``close()``.
    mutating func open(_ key: String) {
        self.name(key)
        self.out.append(UInt8(ascii: "{"))
        self.empty = true
    }

    /// Closes the object ``open(_:)`` opened (the enclosing one has a member: this one).
    mutating func close() {
        self.out.append(UInt8(ascii: "}"))
        self.empty = false
    }

    /// Closes the outermost object and returns the bytes.
    consuming func finish() -> [UInt8] {
        self.out.append(UInt8(ascii: "}"))
        return self.out
    }
}
