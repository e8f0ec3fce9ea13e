/// A read-mostly hash table from entity UIDs (or types) to dense IDs, hashed with FNV-1a.
///
/// Scope symbol lookups run several times per request; Swift's seeded SipHash costs more than the
/// rest of the lookup for these short keys. The keys come from policies (trusted, fixed at
/// `Authorizer.init`); request keys only probe, so a crafted request cannot lengthen the probe
/// chains, which the load factor (at most 1/2) keeps short.
struct SymbolTable<Key: Hashable & Sendable>: Sendable {
    private var slots: [(key: Key, id: Int32)?]
    private var mask: Int
    private let hash: @Sendable (Key) -> Int
    private(set) var count = 0

    init(hash: @escaping @Sendable (Key) -> Int) {
        self.slots = Array(repeating: nil, count: 16)
        self.mask = 15
        self.hash = hash
    }

    /// The ID of `key`, or -1.
    @inline(__always) func id(_ key: Key) -> Int32 {
        var i = self.hash(key) & self.mask
        while let slot = self.slots[i] {
            if slot.key == key { return slot.id }
            i = (i + 1) & self.mask
        }
        return -1
    }

    /// The ID of `key`, assigning the next one if it is new.
    mutating func intern(_ key: Key) -> Int32 {
        let existing = self.id(key)
        if existing >= 0 { return existing }
        if (self.count + 1) * 2 > self.slots.count { self.grow() }
        let id = Int32(self.count)
        self.insert(key, id)
        self.count += 1
        return id
    }

    private mutating func insert(_ key: Key, _ id: Int32) {
        var i = self.hash(key) & self.mask
        while self.slots[i] != nil { i = (i + 1) & self.mask }
        self.slots[i] = (key, id)
    }

    private mutating func grow() {
        let old = self.slots
        self.slots = Array(repeating: nil, count: old.count * 2)
        self.mask = self.slots.count - 1
        for case let (key, id)? in old { self.insert(key, id) }
    }
}

enum FNV {
    @inline(__always) static func hash(_ s: String, into h: inout UInt64) {
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    }

    static func hash(_ uid: EntityUID) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        self.hash(uid.type.name, into: &h)
        h = (h ^ 0xFF) &* 0x100_0000_01b3
        self.hash(uid.id, into: &h)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    static func hash(_ type: EntityType) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        self.hash(type.name, into: &h)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
