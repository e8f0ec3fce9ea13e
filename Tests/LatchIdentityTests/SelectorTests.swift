import LatchIdentity
import Testing

@Suite("Selector")
struct SelectorTests {
    @Test("the description is type:value")
    func description() {
        #expect(Selector(type: "unix", value: "uid:1000").description == "unix:uid:1000")
    }
}
