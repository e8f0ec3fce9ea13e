import LatchCore
import Testing

extension LatchError.Code {
    fileprivate static let testOnly = Self("testOnly")
}

@Suite("LatchError")
struct LatchErrorTests {
    @Test("errors are equal when their codes are, whatever the message")
    func equalityByCode() {
        #expect(LatchError(.invalidInput, "a") == LatchError(.invalidInput, "b"))
        #expect(LatchError(.invalidInput, "a") != LatchError(.io, "a"))
    }

    @Test("a module can add a code without touching LatchCore")
    func growableCodes() {
        let error = LatchError(.testOnly, "x")
        #expect(error.code.name == "testOnly")
        #expect(error.code != .invalidInput)
        #expect(Set([LatchError(.testOnly, "1"), LatchError(.testOnly, "2")]).count == 1)
    }

    @Test("the description names the code and the message")
    func description() {
        #expect(LatchError(.notFound, "no policy `p1`").description == "notFound: no policy `p1`")
    }

    @Test("it can be thrown and caught as a typed error")
    func typedThrow() {
        func fail() throws(LatchError) { throw LatchError(.configuration, "bad") }
        #expect(throws: LatchError(.configuration, "")) { try fail() }
    }
}
