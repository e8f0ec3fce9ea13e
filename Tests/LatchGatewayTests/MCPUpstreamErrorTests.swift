import LatchGateway
import Testing

@Suite("MCPUpstreamError")
struct MCPUpstreamErrorTests {
    @Test("errors compare by kind and reason, and describe themselves by reason only")
    func equality() {
        let a = MCPUpstreamError(.rpcError(code: -32602, message: "bad", data: nil), "upstream refused")
        #expect(a == MCPUpstreamError(.rpcError(code: -32602, message: "bad", data: nil), "upstream refused"))
        #expect(a != MCPUpstreamError(.unavailable, "upstream refused"))
        #expect(a.description == "upstream refused")
    }
}
