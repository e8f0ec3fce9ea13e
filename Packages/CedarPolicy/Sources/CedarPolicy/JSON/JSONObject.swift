/// A JSON object: members in the order written, keys unique.
///
/// Invariants: `keys` has no duplicates and `keys.count == values.count`. The parser rejects
/// duplicate keys (as Cedar does); ``insert(_:_:)`` reports them; the subscript setter replaces.
/// Equality and hashing ignore member order, like JSON object semantics.
public struct JSONObject: Hashable, Sendable, Sequence {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    /// Key positions, built only for objects with more than `Self.linearLimit` members (small
    /// objects, the common case, are searched linearly and need no dictionary).
    private var index: [String: Int]? = nil
    private static let linearLimit = 8

    public init() {}

    /// An object from key/value pairs; returns `nil` on a duplicate key.
    public init?(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs {
            guard self.insert(k, v) else { return nil }
        }
    }

    public var count: Int { self.keys.count }
    public var isEmpty: Bool { self.keys.isEmpty }

    /// Adds a member at the end; returns `false` (and changes nothing) if the key exists.
    @discardableResult
    public mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        guard self.position(of: key) == nil else { return false }
        if self.index != nil {
            self.index?[key] = self.keys.count
        } else if self.keys.count >= Self.linearLimit {
            var index: [String: Int] = [:]
            index.reserveCapacity(self.keys.count * 2)
            for (i, k) in self.keys.enumerated() { index[k] = i }
            index[key] = self.keys.count
            self.index = index
        }
        self.keys.append(key)
        self.values.append(value)
        return true
    }

    /// The position of `key` in `keys`, if present.
    public func position(of key: String) -> Int? {
        if let index = self.index { return index[key] }
        return self.keys.firstIndex(of: key)
    }

    /// The value for `key`; setting replaces in place, or appends a new member, or removes with `nil`.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = self.position(of: key) else { return nil }
            return self.values[i]
        }
        set {
            if let i = self.position(of: key) {
                if let newValue {
                    self.values[i] = newValue
                } else {
                    self.keys.remove(at: i)
                    self.values.remove(at: i)
                    if self.index != nil {
                        var index: [String: Int] = [:]
                        for (j, k) in self.keys.enumerated() { index[k] = j }
                        self.index = index
                    }
                }
            } else if let newValue {
                self.insert(key, newValue)
            }
        }
    }

    public func makeIterator() -> Zip2Sequence<[String], [JSONValue]>.Iterator {
        zip(self.keys, self.values).makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        if lhs.keys == rhs.keys { return lhs.values == rhs.values }
        guard lhs.count == rhs.count else { return false }
        for (k, v) in lhs where rhs[k] != v { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var acc = 0
        for (k, v) in self {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            acc = acc &+ h.finalize()
        }
        hasher.combine(self.count)
        hasher.combine(acc)
    }
}
