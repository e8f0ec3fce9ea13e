/// Where data came from, as far as the guard's rules care.
public struct TaintSources: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Output of a call that brought in untrusted content (an attacker may have written it).
    public static let untrusted = Self(rawValue: 1)
    /// Output labelled confidential or restricted.
    public static let sensitive = Self(rawValue: 2)
}

/// Marks the values a task's later calls copy out of earlier tool output.
///
/// The gateway sees every result and every later argument. ``record(_:sources:step:)`` takes in a
/// result's text (untrusted or sensitive); ``origin(of:)`` then says whether an argument value
/// occurs in such text: an IBAN copied from an injected bill, a one-time code read from a mailbox.
///
/// - Values of 8 bytes or more match as **substrings**: every 8-byte window of each recorded
///   text is kept in a table, and a value matches when all of its windows are there (windows found
///   in different texts also match: erring towards taint).
/// - Shorter values (4 to 7 bytes) match **exactly** a token of a recorded text (a run of letters,
///   digits, non-ASCII and `-_.@+`, also taken without the punctuation at its ends).
/// - Shorter than 4 bytes: never tainted (too common to mean anything).
///
/// Memory is bounded: two generations of at most `capacity` windows and `capacity` tokens each,
/// allocated on the first text. A text contributes at most `capacity` windows (its first
/// `capacity` bytes, and at most `maxBytesPerText`); when a text does not fit in the newer
/// generation, the older is dropped first, so one large result never erases itself and older
/// results are forgotten before newer ones.
///
/// - Important: evidence for rules, not a proof: a value rewritten on the way (re-encoded,
///   split, paraphrased) is not found, and a common value found in a tainted text is flagged.
public struct ValueProvenance: Sendable {
    /// Where a tainted value was found: the sources of the texts and the step (the counter the
    /// gateway passes to ``record(_:sources:step:)``) of the first one.
    public struct Origin: Hashable, Sendable {
        public var sources: TaintSources
        public var step: Int
    }

    /// One generation: 8-byte windows and short tokens, in separate tables.
    struct Generation: Sendable {
        var windows: GramTable
        var tokens: GramTable
        init(capacity: Int) {
            self.windows = GramTable(capacity: capacity)
            self.tokens = GramTable(capacity: capacity)
        }
    }

    public let capacity: Int
    public let maxBytesPerText: Int
    private var current: Generation?
    private var previous: Generation?

    public init(capacity: Int = 1 << 15, maxBytesPerText: Int = 32 << 10) {
        self.capacity = max(64, capacity)
        self.maxBytesPerText = min(max(8, maxBytesPerText), self.capacity)
    }

    /// Whether nothing was recorded (nothing can be tainted).
    public var isEmpty: Bool { self.current == nil }

    /// Takes in one result's text.
    public mutating func record(_ text: String, sources: TaintSources, step: Int) {
        guard !sources.isEmpty else { return }
        let value = UInt32(truncatingIfNeeded: step) << 2 | UInt32(sources.rawValue)
        let utf8 = Array(text.utf8.prefix(self.maxBytesPerText))
        guard utf8.count >= 4 else { return }
        // Room for the whole text in the newer generation, or a new one (the older dropped).
        var generation = self.current ?? Generation(capacity: self.capacity)
        if generation.windows.count + utf8.count > generation.windows.limit || generation.tokens.count + utf8.count / 2 > generation.tokens.limit {
            if self.current != nil { self.previous = generation }
            generation = Generation(capacity: self.capacity)
        }
        self.current = nil  // one owner of the tables while they grow (no copy on write)
        utf8.withUnsafeBufferPointer { bytes in
            if bytes.count >= 8 {
                var window: UInt64 = 0
                for index in 0..<bytes.count {
                    window = window << 8 | UInt64(bytes[index])
                    if index >= 7 { generation.windows.insert(window, value) }
                }
            }
            // Short tokens, exactly: as written, and without punctuation at their ends (the
            // full stop after "code 463820.").
            var start = 0
            for index in 0...bytes.count {
                if index < bytes.count, Self.isTokenByte(bytes[index]) { continue }
                var token = bytes[start..<index]
                if (4..<8).contains(token.count) { generation.tokens.insert(Self.tokenKey(UnsafeBufferPointer(rebasing: token)), value) }
                while let first = token.first, Self.isPunctuation(first) { token = token.dropFirst() }
                while let last = token.last, Self.isPunctuation(last) { token = token.dropLast() }
                if token.count != index - start, (4..<8).contains(token.count) {
                    generation.tokens.insert(Self.tokenKey(UnsafeBufferPointer(rebasing: token)), value)
                }
                start = index + 1
            }
        }
        self.current = generation
    }

    /// Where `value` came from, when it occurs in recorded text; nil when it does not (or is
    /// shorter than 4 bytes).
    public func origin(of value: String) -> Origin? {
        guard !self.isEmpty else { return nil }
        var found: UInt32?
        var sources: UInt8 = 0
        let complete: Bool = value.utf8.withContiguousStorageIfAvailable { self.lookup($0, found: &found, sources: &sources) }
            ?? Array(value.utf8).withUnsafeBufferPointer { self.lookup($0, found: &found, sources: &sources) }
        guard complete, let first = found else { return nil }
        return Origin(sources: TaintSources(rawValue: sources), step: Int(first >> 2))
    }

    private func lookup(_ bytes: UnsafeBufferPointer<UInt8>, found: inout UInt32?, sources: inout UInt8) -> Bool {
        if bytes.count >= 8 {
            var window: UInt64 = 0
            for index in 0..<bytes.count {
                window = window << 8 | UInt64(bytes[index])
                guard index >= 7 else { continue }
                guard let value = self.current?.windows.find(window) ?? self.previous?.windows.find(window) else { return false }
                if found == nil { found = value }
                sources |= UInt8(truncatingIfNeeded: value & 3)
            }
            return true
        }
        guard bytes.count >= 4, bytes.allSatisfy(Self.isTokenByte) else { return false }
        let key = Self.tokenKey(bytes)
        guard let value = self.current?.tokens.find(key) ?? self.previous?.tokens.find(key) else { return false }
        found = value
        sources = UInt8(truncatingIfNeeded: value & 3)
        return true
    }

    /// A short token's key: its bytes and its length.
    private static func tokenKey(_ bytes: some Collection<UInt8>) -> UInt64 {
        var key: UInt64 = 0
        for byte in bytes.prefix(7) { key = key << 8 | UInt64(byte) }
        return key | UInt64(bytes.count) << 56
    }

    private static func isPunctuation(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "+")
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "+"): return true
        default: return byte >= 0x80
        }
    }
}

/// An open-addressing hash table of 64-bit keys (linear probing, half full at most), copy on
/// write through its array storage.
struct GramTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt32]
    private var used: [Bool]
    private(set) var count = 0
    private let mask: Int
    private let maxKeys: Int

    init(capacity: Int) {
        var size = 64
        while size < capacity * 2 { size <<= 1 }
        self.keys = Array(repeating: 0, count: size)
        self.values = Array(repeating: 0, count: size)
        self.used = Array(repeating: false, count: size)
        self.mask = size - 1
        self.maxKeys = size / 2
    }

    /// The most keys it takes (half its slots).
    var limit: Int { self.maxKeys }

    private func slot(_ key: UInt64) -> Int {
        // Fibonacci hashing: the high bits of the product spread any key pattern.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & self.mask
    }

    /// Adds `key` unless present or the table is at its limit.
    mutating func insert(_ key: UInt64, _ value: UInt32) {
        guard self.count < self.maxKeys else { return }
        var index = self.slot(key)
        while self.used[index] {
            if self.keys[index] == key { return }  // the first text a window was seen in stays its origin
            index = (index + 1) & self.mask
        }
        self.used[index] = true
        self.keys[index] = key
        self.values[index] = value
        self.count += 1
    }

    func find(_ key: UInt64) -> UInt32? {
        var index = self.slot(key)
        while self.used[index] {
            if self.keys[index] == key { return self.values[index] }
            index = (index + 1) & self.mask
        }
        return nil
    }
}
