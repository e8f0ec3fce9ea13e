import Foundation
import LatchTesting
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Task grants end to end against `latch serve`: the token endpoint, delegation, DPoP, completion,
/// revocation and introspection driven by reference clients (py-spiffe, PyJWT, `cryptography`),
/// the `latch grant` commands on the same data directory, and a kill -9 during issuance.
@Suite("task grants through latch serve", .serialized)
struct GrantInteropTests {
    static let trustDomain = "grants.test"
    static let agent = "spiffe://grants.test/agents/researcher"
    static let helper = "spiffe://grants.test/agents/summarizer"

    /// Who may get what (`Examples/grants/policies.cedar`): agents of team `interop` may read
    /// sales data through two tools (never restricted data); grants may be handed to agents; an
    /// agent may introspect its own tasks.
    static let policies = InteropPython.repoRoot.appendingPathComponent("Examples/grants/policies.cedar").path

    /// A data directory with the policies and both agents registered for this uid.
    static func prepare(_ directory: TemporaryDirectory, databaseURL: String = "sqlite") async throws -> (data: String, config: String) {
        let data = directory.url.appendingPathComponent("data").path
        try directory.write(
            "latch.yaml",
            """
            trust_domain: \(Self.trustDomain)
            listen: 127.0.0.1:0
            policies: \(Self.policies)
            database_url: "\(databaseURL)"
            """)
        for (id, team) in [(Self.agent, "interop"), (Self.helper, "helpers")] {
            let created = try await LatchProcess.run(
                ["entry", "create", "--config", "latch.yaml", "--data-dir", data, "--spiffe-id", id, "--selector", "unix:uid:\(getuid())",
                 "--attribute", "team=\(team)"],
                in: directory)
            try #require(created.status == 0, "entry create failed: \(created.stderr)")
        }
        return (data, directory.url.appendingPathComponent("latch.yaml").path)
    }

    /// Starts the server; `listen` pins the address (the issuer, when not configured, is the
    /// bound address, and grants name their issuer: a restarted server must keep it).
    static func serve(_ directory: TemporaryDirectory, data: String, config: String, listen: String? = nil) async throws -> ServerProcess {
        try await ServerProcess(
            ["--config", config, "--data-dir", data, "--workload-api-socket", directory.url.appendingPathComponent("run/api.sock").path]
                + (listen.map { ["--listen", $0] } ?? []),
            in: directory, environment: ["LATCH_KEK": ServeInteropTests.kek])
    }

    @Test("reference clients exchange, verify, delegate, introspect, complete and revoke grants; latch grant shows the tree")
    func referenceClients() async throws {
        let directory = try TemporaryDirectory()
        let (data, config) = try await Self.prepare(directory)
        let server = try await Self.serve(directory, data: data, config: config)
        let checks = try await InteropPython.run(
            ["exchange", "--socket", server.socket, "--http", server.http, "--agent", Self.agent, "--helper", Self.helper],
            script: InteropPython.script("grant_client.py"), in: directory)
        let expected = [
            "metadata", "exchange", "pyjwt-verifies-grant", "replayed-proof-refused", "wrong-method-refused", "wrong-uri-refused",
            "expired-proof-refused", "missing-proof-refused", "policy-denies", "bad-subject-token", "delegate-narrower",
            "delegate-wider-refused", "delegate-needs-parent-key", "introspect-active", "complete-cascades", "revoke-endpoint",
        ]
        for name in expected {
            #expect(checks[name]?.ok == true, "\(name): \(checks[name]?.detail ?? "not reported")\nserver log:\n\(server.log)")
        }

        // The store has what the endpoints did: the completed task's tree, the revoked grant.
        let listed = try await LatchProcess.run(["grant", "list", "--all", "--json", "--config", config, "--data-dir", data], in: directory)
        try #require(listed.status == 0, "\(listed.stderr)")
        let grants = listed.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let delegated = try #require(grants.first { ($0["latch_depth"] as? Int) == 1 }, "\(listed.stdout)")
        #expect((delegated["status"] as? String)?.hasPrefix("completed (ancestor ") == true, "\(delegated)")
        #expect(grants.contains { ($0["status"] as? String) == "revoked" })
        let rootID = try #require((delegated["latch_ancestors"] as? [String])?.first)
        let shown = try await LatchProcess.run(["grant", "show", rootID, "--config", config, "--data-dir", data], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], "\(shown.stderr)")
        #expect(object["status"] as? String == "completed")
        #expect((object["task"] as? [String: Any])?["end_reason"] as? String == "completed")
        let tree = try #require(object["delegation_tree"] as? [[String: Any]])
        #expect(tree.count == 1 && tree[0]["id"] as? String == rootID)
        #expect(((tree[0]["children"] as? [[String: Any]])?.first?["holder"] as? String) == Self.helper)
        #expect(server.stop() == 0)
        #expect(!server.log.contains("eyJ"), "no token may be logged")
    }

    @Test("latch grant revoke reaches the running server; completing by task ID ends the task")
    func commandsReachServer() async throws {
        let directory = try TemporaryDirectory()
        let (data, config) = try await Self.prepare(directory)
        let server = try await Self.serve(directory, data: data, config: config)
        let out = directory.url.appendingPathComponent("grants.txt").path
        let load = try Self.startLoad(server: server, out: out, threads: 1, count: 3, in: directory)
        load.waitUntilExit()
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let issued = lines.filter { $0.hasPrefix("grant ") }.map { $0.split(separator: " ") }
        let (firstID, secondID) = (String(issued[0][1]), String(issued[1][1]))

        let revoked = try await LatchProcess.run(["grant", "revoke", firstID, "--config", config, "--data-dir", data], in: directory)
        #expect(revoked.status == 0 && revoked.stdout.contains(#""reason":"revoked""#), "\(revoked.stderr)")
        let again = try await LatchProcess.run(["grant", "revoke", firstID, "--config", config, "--data-dir", data], in: directory)
        #expect(again.stdout.contains(#""already_revoked":true"#))
        let unknown = try await LatchProcess.run(["grant", "revoke", "no-such-grant", "--config", config, "--data-dir", data], in: directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no grant no-such-grant"))
        let shown = try await LatchProcess.run(["grant", "show", secondID, "--config", config, "--data-dir", data], in: directory)
        let task = try #require(
            ((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["task_id"]) as? String, "\(shown.stderr)")
        let completed = try await LatchProcess.run(["grant", "complete", task, "--config", config, "--data-dir", data], in: directory)
        #expect(completed.status == 0 && completed.stdout.contains(#""reason":"completed""#), "\(completed.stderr)")
        try await Task.sleep(for: .milliseconds(2500))  // the server polls the revocation counter every second

        let results = try await Self.introspect(server: server, file: out, in: directory)
        #expect(results[firstID] == false, "a grant revoked with latch grant must be inactive on the server")
        #expect(results[secondID] == false, "a grant of a task completed with latch grant must be inactive on the server")
        #expect(results.values.contains(true), "the other grants stay active: \(results)")
        #expect(server.stop() == 0)
    }

    /// SQLite, and PostgreSQL when `LATCH_TEST_POSTGRES_URL` is set (CI sets it), each in a new schema.
    static let stores: [String] = {
        guard let url = ProcessInfo.processInfo.environment["LATCH_TEST_POSTGRES_URL"], !url.isEmpty else { return ["sqlite"] }
        return ["sqlite", url + (url.contains("?") ? "&" : "?") + "schema=grants_crash"]
    }()

    @Test(
        "kill -9 during issuance: every grant returned to a client exists after restart, every acknowledged revocation holds",
        arguments: Self.stores)
    func crashDuringIssuance(_ databaseURL: String) async throws {
        let directory = try TemporaryDirectory()
        var databaseURL = databaseURL
        if databaseURL != "sqlite" { databaseURL += "_\(UInt32.random(in: 0..<UInt32.max))" }
        let (data, config) = try await Self.prepare(directory, databaseURL: databaseURL)
        let server = try await Self.serve(directory, data: data, config: config)
        let out = directory.url.appendingPathComponent("grants.txt").path
        let load = try Self.startLoad(server: server, out: out, threads: 8, in: directory)
        try await Self.waitForLines(out, prefix: "revoked ", count: 20)
        server.kill()
        load.waitUntilExit()

        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        let returned = Set(lines.filter { $0.first == "grant" && $0.count == 3 }.map { String($0[1]) })
        let acknowledged = Set(lines.filter { $0.first == "revoked" && $0.count == 2 }.map { String($0[1]) })
        // Revocations asked for but not acknowledged before the kill may or may not have been committed.
        let attempted = Set(lines.filter { $0.first == "revoking" && $0.count == 2 }.map { String($0[1]) })
        #expect(returned.count >= 100, "load too light to mean anything: \(returned.count) grants")

        let restarted = try await Self.serve(directory, data: data, config: config, listen: String(server.http.dropFirst("http://".count)))
        let listed = try await LatchProcess.run(
            ["grant", "list", "--all", "--json", "--limit", "1000000", "--config", config, "--data-dir", data], in: directory)
        try #require(listed.status == 0, "\(listed.stderr)")
        var status: [String: String] = [:]
        for line in listed.stdoutLines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let id = object["jti"] as? String
            else { continue }
            status[id] = object["status"] as? String
        }
        let missing = returned.subtracting(status.keys)
        #expect(missing.isEmpty, "\(missing.count) of \(returned.count) returned grants were lost")
        let unrevoked = acknowledged.filter { status[$0] != "revoked" }
        #expect(unrevoked.isEmpty, "\(unrevoked.count) of \(acknowledged.count) acknowledged revocations were lost")

        // And the restarted server enforces them: acknowledged revocations are inactive, the rest active.
        let results = try await Self.introspect(server: restarted, file: out, in: directory)
        #expect(acknowledged.allSatisfy { results[$0] == false })
        let inactive = returned.subtracting(attempted).filter { results[$0] != true }
        #expect(inactive.isEmpty, "\(inactive.count) unrevoked grants are not active: \(inactive.prefix(3).map { ($0, results[$0] as Any, status[$0] as Any) })")
        #expect(returned.count - attempted.count > returned.count / 2)
        #expect(restarted.stop() == 0)
    }

    @Test("a federated OIDC token is exchanged for a task grant of the entry it matches; unmatched, forged or misdirected ones are refused")
    func federatedSubject() async throws {
        let directory = try TemporaryDirectory()
        let python = URL(fileURLWithPath: try InteropPython.interpreter())
        // The issuer: a JWKS served by the reference client, its key in a file for signing tokens.
        let keyFile = directory.url.appendingPathComponent("issuer.pem").path
        let portFile = directory.url.appendingPathComponent("issuer.port")
        _ = FileManager.default.createFile(atPath: portFile.path, contents: nil)
        let issuer = Process()
        issuer.executableURL = python
        issuer.arguments = [InteropPython.script("grant_client.py"), "oidc-issuer", "--key-file", keyFile]
        issuer.standardOutput = try FileHandle(forWritingTo: portFile)
        try ProcessLaunch.start(issuer)
        defer {
            issuer.terminate()
            kill(issuer.processIdentifier, SIGKILL)
            issuer.waitUntilExit()
        }
        try await Self.waitForLines(portFile.path, prefix: "", count: 1, timeout: .seconds(30))
        let port = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let issuerURL = "http://127.0.0.1:\(port)"

        let (data, config) = try await Self.prepare(directory)
        let yaml = try String(contentsOfFile: config, encoding: .utf8)
        try (yaml + """

            federation:
              - alias: ci
                issuer: \(issuerURL)
                audience: latch
                jwks_url: \(issuerURL)/jwks.json

            """).write(toFile: config, atomically: true, encoding: .utf8)
        let runner = "spiffe://grants.test/agents/ci-runner"
        let created = try await LatchProcess.run(
            ["entry", "create", "--config", config, "--data-dir", data, "--spiffe-id", runner, "--selector", "oidc:ci:sub:repo:acme/agent",
             "--attribute", "team=interop"],
            in: directory)
        try #require(created.status == 0, "\(created.stderr)")
        let server = try await Self.serve(directory, data: data, config: config)
        let checks = try await InteropPython.run(
            ["federated", "--socket", server.socket, "--http", server.http, "--agent", runner, "--issuer", issuerURL, "--key-file", keyFile],
            script: InteropPython.script("grant_client.py"), in: directory)
        for name in ["federated-exchange", "federated-unmatched-subject", "federated-wrong-key", "federated-wrong-audience"] {
            #expect(checks[name]?.ok == true, "\(name): \(checks[name]?.detail ?? "not reported")\nserver log:\n\(server.log)")
        }
        #expect(server.stop() == 0)
    }

    static func startLoad(server: ServerProcess, out: String, threads: Int, count: Int = 0, in directory: TemporaryDirectory) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try InteropPython.interpreter())
        process.arguments = [
            InteropPython.script("grant_client.py"), "load", "--socket", server.socket, "--http", server.http, "--agent", Self.agent,
            "--out", out, "--threads", String(threads), "--count", String(count),
        ]
        process.currentDirectoryURL = directory.url
        process.standardOutput = FileHandle.nullDevice
        try ProcessLaunch.start(process)
        return process
    }

    static func waitForLines(_ path: String, prefix: String, count: Int, timeout: Duration = .seconds(120)) async throws {
        let found = try await Polling.eventually(timeout: timeout, every: .milliseconds(100)) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter({ $0.hasPrefix(prefix) }).count >= count ? true : nil
        }
        guard found != nil else {
            throw ServerProcess.ServerFailed(description: "fewer than \(count) '\(prefix)' lines in \(path) after \(timeout)")
        }
    }

    /// Introspects every grant in `file` (as the agent); jti → active.
    static func introspect(server: ServerProcess, file: String, in directory: TemporaryDirectory) async throws -> [String: Bool] {
        let result = try await LatchProcess.run(
            [InteropPython.script("grant_client.py"), "introspect", "--socket", server.socket, "--http", server.http, "--agent", Self.agent,
             "--in", file],
            in: directory, executable: URL(fileURLWithPath: try InteropPython.interpreter()))
        var active: [String: Bool] = [:]
        for line in result.stdoutLines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let jti = object["jti"] as? String,
                object["status"] as? Int == 200
            else { continue }
            active[jti] = object["active"] as? Bool
        }
        try #require(!active.isEmpty, "introspection answered nothing: \(result.stderr)")
        return active
    }
}
