import Testing

@testable import CedarPolicy

@Suite("SymbolTable")
struct SymbolTableTests {
    @Test("interning assigns dense IDs once; lookups find them after growth; unknown keys are -1")
    func internAndLookup() {
        var table = SymbolTable<EntityUID>(hash: FNV.hash)
        let uids = (0..<1000).map { E.uid($0 % 3 == 0 ? "User" : "NS::Group", "id\($0)") }
        for (i, u) in uids.enumerated() { #expect(table.intern(u) == Int32(i)) }
        #expect(table.count == 1000)
        for (i, u) in uids.enumerated() {
            #expect(table.id(u) == Int32(i))
            #expect(table.intern(u) == Int32(i))
        }
        #expect(table.count == 1000)
        #expect(table.id(E.uid("User", "id1")) == -1)  // id1 was interned as NS::Group
        #expect(table.id(E.uid("User", "nobody")) == -1)
        #expect(table.id(E.uid("", "")) == -1)
    }

    @Test("type and id boundaries are part of the key")
    func boundaries() {
        var table = SymbolTable<EntityUID>(hash: FNV.hash)
        let a = table.intern(E.uid("AB", "C"))
        let b = table.intern(E.uid("A", "BC"))
        #expect(a != b)
        #expect(table.id(E.uid("AB", "C")) == a)
        #expect(table.id(E.uid("A", "BC")) == b)
    }
}
