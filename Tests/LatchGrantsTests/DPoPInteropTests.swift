import Foundation
import LatchCore
import LatchIdentity
import LatchTesting
import Testing

@testable import LatchGrants

/// DPoP proofs built by PyJWT (`Tests/Interop/dpop_proofs.py`, run with `$LATCH_PYTHON`, else
/// the repository's `.venv` that `.ci/run` creates with the pinned PyJWT and cryptography).
@Suite("DPoP proofs built independently in Python")
struct DPoPInteropTests {
    struct Proof: Decodable {
        let name: String
        let proof: String
        let thumbprint: String
        let token: String
    }

    /// Runs `Tests/Interop/<script>` (``InteropScripts/run(_:_:input:)``), feeding `input`; returns stdout.
    static func runPython(_ script: String, _ arguments: [String] = [], input: [UInt8] = []) throws -> Data {
        let python = try InteropScripts.interpreter()
        let (status, output) = try InteropScripts.run(script, arguments, input: input)
        #expect(status == 0, "\(script) failed; is PyJWT installed for \(python)?")
        return Data(output)
    }

    static func proofs(uri: String) throws -> [String: Proof] {
        var proofs: [String: Proof] = [:]
        for line in try Self.runPython("dpop_proofs.py", [uri]).split(separator: UInt8(ascii: "\n")) {
            let proof = try JSONDecoder().decode(Proof.self, from: Data(line))
            proofs[proof.name] = proof
        }
        return proofs
    }

    @Test("a PyJWT proof is accepted (same key thumbprint) and bound to its token; replayed, expired, future and wrong-method ones are refused")
    func pyjwtProofs() throws {
        let uri = "https://gateway.example/token"
        let proofs = try Self.proofs(uri: uri)
        try #require(proofs.count == 5)
        let verifier = DPoPVerifier(replayCache: DPoPReplayCache())
        let now = SystemWallClock().now().milliseconds
        let request = DPoPRequest(method: "POST", uri: uri)

        let valid = try #require(proofs["valid"])
        #expect(try verifier.verify(valid.proof, for: request, now: now).keyThumbprint == valid.thumbprint)
        #expect(throws: LatchError(.replayedDPoPProof, "")) { try verifier.verify(valid.proof, for: request, now: now) }

        let bound = try #require(proofs["bound"])
        let withToken = DPoPRequest(method: "POST", uri: uri, accessToken: Redacted(bound.token), boundThumbprint: bound.thumbprint)
        #expect(try verifier.verify(bound.proof, for: withToken, now: now).keyThumbprint == bound.thumbprint)

        for name in ["expired", "future", "wrong-method"] {
            let proof = try #require(proofs[name])
            #expect(throws: LatchError(.invalidDPoPProof, ""), "\(name)") { try verifier.verify(proof.proof, for: request, now: now) }
        }
    }
}
