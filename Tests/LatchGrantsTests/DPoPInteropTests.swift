import Foundation
import LatchCore
import LatchIdentity
import Testing

@testable import LatchGrants

/// DPoP proofs built by PyJWT (`Tests/Interop/dpop_proofs.py`, run with `$LATCH_PYTHON`, else
/// the repository's `.venv` that `.ci/run` creates with the pinned PyJWT and cryptography).
@Suite("DPoP proofs built independently in Python")
struct DPoPInteropTests {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    struct Proof: Decodable {
        let name: String
        let proof: String
        let thumbprint: String
        let token: String
    }

    static func proofs(uri: String) throws -> [String: Proof] {
        let python =
            ProcessInfo.processInfo.environment["LATCH_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.repoRoot.appendingPathComponent(".venv/bin/python").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repoRoot.appendingPathComponent("Tests/Interop/dpop_proofs.py").path, uri]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "dpop_proofs.py failed; is PyJWT installed for \(python)?")
        var proofs: [String: Proof] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
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
