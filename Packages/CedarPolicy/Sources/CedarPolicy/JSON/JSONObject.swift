/// A JSON object: members in the order written, keys unique.
///
/// Invariants: no two members share a key. The parser rejects duplicate keys (as Cedar does);
/// ``insert(_:_:)`` reports them; the subscript setter replaces. Equality and hashing ignore
/// member order, like JSON object semantics.
///
/// Small objects (the common case) are one array searched linearly; objects with more than
/// `linearLimit` members also keep a key index.
public struct JSONObject: Hashable, Sendable, Sequence {
    @usableFromInline struct Member: Hashable, Sendable {
        @usableFromInline var key: String
        @usableFromInline var value: JSONValue
    }

    @usableFromInline var members: [Member] = []
    private var index: [String: Int]? = nil
    private static let linearLimit = 8

    public init() {}

    /// An object from key/value pairs; returns `nil` on a duplicate key.
    public init?(_ pairs: [(String, JSONValue)]) {
        self.members.reserveCapacity(pairs.count)
        for (k, v) in pairs {
            guard self.insert(k, v) else { return nil }
        }
    }

    /// An empty object with room for `capacity` members.
    public init(minimumCapacity capacity: Int) {
        self.members.reserveCapacity(capacity)
    }

    public var count: Int { self.members.count }
    public var isEmpty: Bool { self.members.isEmpty }
    public var keys: [String] { self.members.map(\.key) }
    public var values: [JSONValue] { self.members.map(\.value) }

    /// The first member, if any (handy for one-member objects such as `{"Value": …}`).
    public var first: (key: String, value: JSONValue)? {
        guard let m = self.members.first else { return nil }
        return (m.key, m.value)
    }

    /// The position of `key` among the members, if present.
    public func position(of key: String) -> Int? {
        if let index = self.index { return index[key] }
        return self.members.firstIndex { $0.key == key }
    }

    /// Adds a member at the end; returns `false` (and changes nothing) if the key exists.
    @discardableResult
    public mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        guard self.position(of: key) == nil else { return false }
        if self.index != nil {
            self.index?[key] = self.members.count
        } else if self.members.count >= Self.linearLimit {
            var index: [String: Int] = [:]
            index.reserveCapacity(self.members.count * 2)
            for (i, m) in self.members.enumerated() { index[m.key] = i }
            index[key] = self.members.count
            self.index = index
        }
        self.members.append(Member(key: key, value: value))
        return true
    }

    /// The value for `key`; setting replaces in place, or appends a new member, or removes with `nil`.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = self.position(of: key) else { return nil }
            return self.members[i].value
        }
        set {
            if let i = self.position(of: key) {
                if let newValue {
                    self.members[i].value = newValue
                } else {
                    self.members.remove(at: i)
                    if self.index != nil {
                        var index: [String: Int] = [:]
                        for (j, m) in self.members.enumerated() { index[m.key] = j }
                        self.index = index
                    }
                }
            } else if let newValue {
                self.insert(key, newValue)
            }
        }
    }

    public struct Iterator: IteratorProtocol {
        var inner: IndexingIterator<[Member]>
        public mutating func next() -> (String, JSONValue)? {
            guard let m = self.inner.next() else { return nil }
            return (m.key, m.value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(inner: self.members.makeIterator()) }

    public var underestimatedCount: Int { self.members.count }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.members == rhs.members { return true }
        for m in lhs.members where rhs[m.key] != m.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var acc = 0
        for m in self.members {
            var h = Hasher()
            h.combine(m.key)
            h.combine(m.value)
            acc = acc &+ h.finalize()
        }
        hasher.combine(self.count)
        hasher.combine(acc)
    }
}
