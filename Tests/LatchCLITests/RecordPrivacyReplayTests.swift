import Crypto
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchServer
import LatchTesting
import Logging
import Testing

/// Calls recorded by a real gateway in process into a store as `latch serve` lays it out (the
/// ledger keys sealed under the KEK in `d/kek` or `kek_file`), then read with `latch audit` and
/// replayed with `latch policy replay`.
@Suite("record privacy and policy replay")
struct RecordPrivacyReplayTests {
    static let iban = "DE89370400440532013000"
    static let prompt = "pay the landlord quietly, tell nobody"
    static let noteText = "the meeting moved to room 4.12"

    /// SQLite, and PostgreSQL when `LATCH_TEST_POSTGRES_URL` is set (CI sets it), each in a new schema.
    static let stores: [String] = {
        guard let url = ProcessInfo.processInfo.environment["LATCH_TEST_POSTGRES_URL"], !url.isEmpty else { return ["sqlite"] }
        return ["sqlite", url + (url.contains("?") ? "&" : "?") + "schema=privacy"]
    }()

    static let livePolicies = #"permit (principal, action == Latch::Action::"CallTool", resource);"#

    static let configuration = """
        upstreams:
          - name: pay
            command: /bin/true
            tools:
              transfer: {audit_arguments: [iban, amount]}
              note: {}
        """

    /// What the recorded calls were: their decision records' IDs by name.
    struct Recorded {
        var ids: [String: String] = [:]
        var databaseURL: String
        var config: String
    }

    /// Four calls through a gateway whose upstream is not running (allowed calls are recorded,
    /// then answered `unavailable`): a big and a small transfer, a note, and an unknown tool.
    static func record(in directory: TemporaryDirectory, databaseURL: String, keepArguments: Bool, keepPrompts: Bool) async throws -> Recorded {
        var databaseURL = databaseURL
        var configText = Self.configuration + "\n"
        var kekFile: String?
        if databaseURL != "sqlite" {
            databaseURL += "_\(UInt32.random(in: 0..<UInt32.max))"
            let kek = directory.url.appendingPathComponent("kek").path
            try Data(KeyEncryptionKey.generate().unredactedBytes).write(to: URL(fileURLWithPath: kek))
            kekFile = kek
            configText += "kek_file: \(kek)\ndatabase_url: \(databaseURL)\n"
        }
        let config = try directory.write("latch.yaml", configText)
        let data = directory.url.appendingPathComponent("d").path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let kek = try StoreAccess.keyEncryptionKey(kekFile: kekFile, dataDirectory: data, databaseURL: databaseURL, environment: [:], logger: logger)
        let ids = try await StoreAccess.withStore(databaseURL: databaseURL, dataDirectory: data, logger: logger) { store in
            let keys = try await LedgerKeyring.loadOrCreate(
                store: store, kek: kek, keyName: LedgerKeyring.keyName(trustDomain: TestKeys.trustDomain), clock: TestWallClock())
            let harness = try await Harness(store: store, ledgerKey: keys.mac, keepArguments: keepArguments, keepPrompts: keepPrompts)
            let grant = try await harness.grant()
            var ids: [String: String] = [:]
            ids["big"] = try await harness.call("pay.transfer", #"{"iban": "\#(Self.iban)", "amount": 5000}"#, prompt: Self.prompt, grant: grant)
            ids["small"] = try await harness.call("pay.transfer", #"{"iban": "\#(Self.iban)", "amount": 50}"#, prompt: nil, grant: grant)
            ids["note"] = try await harness.call("pay.note", #"{"text": "\#(Self.noteText)"}"#, prompt: nil, grant: grant)
            ids["unknown"] = try await harness.call("pay.missing", "{}", prompt: nil, grant: grant)
            return ids
        }
        return Recorded(ids: ids, databaseURL: databaseURL, config: config)
    }

    /// A gateway over `store` serving `pay.transfer` and `pay.note` (labels as in ``configuration``).
    struct Harness {
        static let base = "https://latch.test"
        static let agent = (try? SPIFFEID(parsing: "spiffe://example.org/agents/payer")) ?? { fatalError("fixture") }()
        let clock = TestWallClock()
        let authority: GrantAuthority
        let gateway: MCPGateway
        let agentKey = P256.Signing.PrivateKey()

        struct AllowAll: GrantDecider { func decide(_ question: GrantQuestion) -> GrantDecision { GrantDecision(allowed: true, policies: []) } }

        init(store: any LatchStore, ledgerKey: LedgerKey, keepArguments: Bool, keepPrompts: Bool) async throws {
            self.clock.set(UnixTime(milliseconds: ProofBuilder.now))
            let key = TestKeys.jwtKey(now: ProofBuilder.now - 1000)
            self.authority = GrantAuthority(settings: GrantSettings(), repository: store, decider: AllowAll(), clock: self.clock)
            self.authority.setKeys(
                issuer: Self.base, signingKey: key,
                svidValidator: JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [key.keyID: key.publicKey]))
            let tools = try ["transfer": ToolLabels(auditArguments: ["iban", "amount"]), "note": ToolLabels()].map { name, labels in
                try #require(GatewayTool(upstream: "pay", definition: .object(["name": .string(name)]), labels: labels))
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(UUID().uuidString).cedar")
            try RecordPrivacyReplayTests.livePolicies.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let policies = try PolicyReplay.loadPolicies(at: file.path)
            var settings = MCPGatewaySettings()
            settings.keepArguments = keepArguments
            settings.keepPrompts = keepPrompts
            self.gateway = MCPGateway(
                settings: settings, baseURL: { Self.base }, authority: self.authority,
                snapshot: MCPGateway.Snapshot(catalog: ToolCatalog(tools), upstreams: [:], policy: ToolCallPolicy(policies: policies) { _ in [:] }),
                recorder: StoreDecisionRecorder(repository: store, ledgerKey: ledgerKey), valueKey: ledgerKey.valueKey, clock: self.clock,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        func grant() async throws -> String {
            let grant = TaskGrant(
                id: UUID().uuidString, taskID: UUID().uuidString, subject: Self.agent, audience: ["latch-gateway"], intent: "pay rent",
                scope: GrantScope(tools: ["pay.transfer", "pay.note"], dataDomains: [], destinations: [], maxSensitivity: .internal),
                issuedAt: ProofBuilder.now, expiresAt: ProofBuilder.now + 300_000, keyThumbprint: CAKey.thumbprint(of: self.agentKey.publicKey))
            return try await self.authority.issue(grant).token
        }

        /// Calls `tool` with `arguments` (JSON text); returns its decision record's ID.
        func call(_ tool: String, _ arguments: String, prompt: String?, grant: String) async throws -> String {
            var meta: [String: JSONValue] = ["io.modelcontextprotocol/protocolVersion": .string("2026-07-28")]
            if let prompt { meta["dev.latch/prompt"] = .string(prompt) }
            let parsed = try #require(JSONValue(parsing: Array(arguments.utf8)))
            let body = JSONValue.object([
                "jsonrpc": .string("2.0"), "id": .int(1), "method": .string("tools/call"),
                "params": .object(["name": .string(tool), "arguments": parsed, "_meta": .object(meta)]),
            ])
            var builder = ProofBuilder(jti: UUID().uuidString, method: "POST", uri: Self.base + "/mcp")
            builder.key = self.agentKey
            builder.header["jwk"] = ProofBuilder.jwk(self.agentKey.publicKey)
            builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(grant.utf8)))))
            let headers = [
                "authorization": ["DPoP " + grant], "dpop": [try builder.build()], "content-type": ["application/json"],
                "mcp-protocol-version": ["2026-07-28"], "mcp-method": ["tools/call"], "mcp-name": [tool],
            ]
            let modernBody = body.serialized
            let response = await self.gateway.handle(MCPHTTPRequest(method: "POST", headers: headers, body: Array(modernBody.utf8)))
            let answer = try #require(JSONValue(parsing: response.body), "\(String(decoding: response.body, as: UTF8.self))")
            return try #require(answer["error"]?["data"]?["decision_id"]?.stringValue, "\(String(decoding: response.body, as: UTF8.self))")
        }
    }

    static func run(_ arguments: [String], _ recorded: Recorded, in directory: TemporaryDirectory) async throws -> LatchProcess.Result {
        var store = ["--config", recorded.config]
        if recorded.databaseURL == "sqlite" { store += ["--data-dir", "d"] }
        return try await LatchProcess.run(arguments + store, in: directory)
    }

    /// Every byte the store holds for the records, as the ledger reads them back, and for SQLite
    /// the database files themselves.
    static func storedBytes(_ recorded: Recorded, in directory: TemporaryDirectory) async throws -> [UInt8] {
        let data = directory.url.appendingPathComponent("d").path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var bytes = try await StoreAccess.withStore(databaseURL: recorded.databaseURL, dataDirectory: data, logger: logger) { store in
            try await store.ledgerEntries(from: 0, limit: 1000).flatMap(\.bytes)
        }
        if recorded.databaseURL == "sqlite" {
            for name in ["latch.sqlite", "latch.sqlite-wal"] {
                if let file = FileManager.default.contents(atPath: data + "/" + name) { bytes += Array(file) }
            }
        }
        return bytes
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test(
        "records keep keyed hashes and sealed copies only: no prompt or argument value in the store or in audit list --json", arguments: Self.stores)
    func nothingInClear(_ databaseURL: String) async throws {
        let directory = try TemporaryDirectory()
        let recorded = try await Self.record(in: directory, databaseURL: databaseURL, keepArguments: true, keepPrompts: true)
        let stored = try await Self.storedBytes(recorded, in: directory)
        #expect(stored.count > 1000)
        // (Amounts are not checked: digits occur in hashes and latencies.)
        for secret in [Self.iban, Self.prompt, Self.noteText, "landlord"] {
            #expect(!Self.contains(stored, secret), "\(secret) is stored in clear")
        }
        let list = try await Self.run(["audit", "list", "--json"], recorded, in: directory)
        try #require(list.status == 0, "\(list.stderr)")
        for secret in [Self.iban, Self.prompt, Self.noteText] { #expect(!list.stdout.contains(secret)) }
        let records = try #require(JSONValue(parsing: list.stdout.utf8)?.arrayValue)
        let big = try #require(records.first { $0["id"]?.stringValue == recorded.ids["big"] })
        #expect(big["prompt_hmac"]?.stringValue?.count == 64 && big["arguments_hmac"]?.stringValue?.count == 64)
        #expect(big["argument_hmacs"]?.objectValue?.keys.sorted() == ["amount", "iban"])
        #expect(big["prompt_sealed"] != nil && big["arguments_sealed"] != nil && big["facts"]?["session"]?["calls"] == .int(0))
        // The second call's decision saw the first: one call, its tool used, nothing in flight.
        let small = try #require(records.first { $0["id"]?.stringValue == recorded.ids["small"] })
        #expect(small["facts"]?["session"]?["calls"] == .int(1) && small["facts"]?["session"]?["tools_used"] == .array([.string("pay.transfer")]))
        #expect(small["facts"]?["session"]?["reads_in_flight"] == .int(0) && small["prompt_hmac"] == nil)
        #expect(small["argument_hmacs"]?["iban"] == big["argument_hmacs"]?["iban"], "one IBAN, one keyed hash")
        #expect(small["argument_hmacs"]?["amount"] != big["argument_hmacs"]?["amount"])
        let outcome = try #require(records.first { $0["decision_id"]?.stringValue == recorded.ids["big"] })
        #expect(outcome["arguments_sealed"] == nil && outcome["prompt_sealed"] == nil && outcome["facts"] == nil)
        #expect(outcome["argument_hmacs"] == big["argument_hmacs"], "an outcome is found by the same values as its decision")
    }

    @Test("audit show prints one record; --reveal opens its prompt and arguments; --argument and --prompt match typed values, in show and query")
    func show() async throws {
        let directory = try TemporaryDirectory()
        let recorded = try await Self.record(in: directory, databaseURL: "sqlite", keepArguments: true, keepPrompts: true)
        let id = try #require(recorded.ids["big"])
        let plain = try await Self.run(["audit", "show", id], recorded, in: directory)
        try #require(plain.status == 0, "\(plain.stderr)")
        let record = try #require(JSONValue(parsing: plain.stdout.utf8))
        #expect(record["record"]?["id"] == .string(id) && record["revealed"] == nil && !plain.stdout.contains(Self.iban))

        let revealed = try await Self.run(["audit", "show", id, "--reveal"], recorded, in: directory)
        try #require(revealed.status == 0, "\(revealed.stderr)")
        let answer = try #require(JSONValue(parsing: revealed.stdout.utf8))
        #expect(answer["revealed"]?["prompt"] == .string(Self.prompt))
        #expect(answer["revealed"]?["arguments"] == .object(["iban": .string(Self.iban), "amount": .int(5000)]))

        let matched = try await Self.run(
            [
                "audit", "show", id, "--argument", "iban=\(Self.iban)", "--argument", "amount=5000", "--argument", "amount=50", "--prompt",
                Self.prompt,
            ],
            recorded, in: directory)
        try #require(matched.status == 0, "\(matched.stderr)")
        let matches = JSONValue(parsing: matched.stdout.utf8)?["matches"]
        #expect(
            matches?["argument iban"] == .bool(true) && matches?["argument amount"] == .bool(false), "the last --argument amount (50) does not match")
        #expect(matches?["prompt"] == .bool(true))

        // audit query keeps the records whose keyed hashes match: the big call's decision and outcome.
        let queried = try await Self.run(
            ["audit", "query", "--argument", "iban=\(Self.iban)", "--argument", "amount=5000", "--json"], recorded, in: directory)
        try #require(queried.status == 0, "\(queried.stderr)")
        let found = try #require(JSONValue(parsing: queried.stdout.utf8)?.arrayValue).compactMap { $0["record"] }
        #expect(found.count == 2 && found.allSatisfy { $0["id"] == .string(id) || $0["decision_id"] == .string(id) }, "\(found)")
        let none = try await Self.run(["audit", "query", "--argument", "amount=1", "--prompt", Self.prompt, "--json"], recorded, in: directory)
        #expect(none.status == 0 && JSONValue(parsing: none.stdout.utf8) == .array([]), "\(none.stdout)")

        let missing = try await Self.run(["audit", "show", "no-such-record"], recorded, in: directory)
        #expect(missing.status == 1 && missing.stderr.contains("no decision record no-such-record"))
        // Without the KEK nothing is revealed, and no KEK is created.
        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("d/kek"))
        let locked = try await Self.run(["audit", "show", id, "--reveal"], recorded, in: directory)
        #expect(locked.status == 1 && locked.stderr.contains("no key-encryption key") && !locked.stdout.contains(Self.iban))
    }

    @Test("replay lists the decisions a stricter policy changes, nothing under the same policies, and skips non-policy denials")
    func replayWithArguments() async throws {
        let directory = try TemporaryDirectory()
        let recorded = try await Self.record(in: directory, databaseURL: "sqlite", keepArguments: true, keepPrompts: false)
        let same = try directory.write("same.cedar", Self.livePolicies)
        let unchanged = try await Self.run(["policy", "replay", "--policies", same, "--since", "1970-01-01T00:00:00Z", "--json"], recorded, in: directory)
        try #require(unchanged.status == 0, "\(unchanged.stderr)")
        let summary = JSONValue(parsing: unchanged.stdout.utf8)?["summary"]
        #expect(summary == .object(["replayed": .int(3), "changed": .int(0), "unchanged": .int(3), "skipped": .int(1), "undecidable": .int(0)]))

        let strict = try directory.write(
            "strict.cedar",
            Self.livePolicies + "\n"
                + #"@id("no-big-transfers") forbid (principal, action, resource == Latch::Tool::"pay.transfer") when { context.arguments.amount > 1000 };"#
        )
        let changed = try await Self.run(["policy", "replay", "--policies", strict, "--since", "1970-01-01T00:00:00Z", "--json"], recorded, in: directory)
        try #require(changed.status == 0, "\(changed.stderr)")
        let report = try #require(JSONValue(parsing: changed.stdout.utf8))
        #expect(report["summary"]?["changed"] == .int(1) && report["summary"]?["unchanged"] == .int(2) && report["summary"]?["skipped"] == .int(1))
        let change = try #require(report["changes"]?.arrayValue?.first)
        #expect(change["id"]?.stringValue == recorded.ids["big"] && change["tool"] == .string("pay.transfer"))
        #expect(change["old"] == .string("allow") && change["new"] == .string("deny") && change["policies"] == .array([.string("no-big-transfers")]))
        #expect(change["agent"] == .string(Harness.agent.description))

        let text = try await Self.run(["policy", "replay", "--policies", strict, "--since", "1970-01-01T00:00:00Z"], recorded, in: directory)
        #expect(text.status == 0)
        #expect(text.stdoutLines.first?.contains("allow -> deny  no-big-transfers") == true, "\(text.stdout)")
        #expect(text.stdoutLines.last == "replayed 3, changed 1, unchanged 2, skipped 1, undecidable 0")

        // A range that holds nothing replays nothing.
        let later = try await Self.run(["policy", "replay", "--policies", strict, "--since", "2100-01-01T00:00:00Z"], recorded, in: directory)
        #expect(later.stdoutLines.last == "replayed 0, changed 0, unchanged 0, skipped 0, undecidable 0")
    }

    @Test("without kept arguments, a policy that reads them makes the replay undecidable; others still replay")
    func replayWithoutArguments() async throws {
        let directory = try TemporaryDirectory()
        let recorded = try await Self.record(in: directory, databaseURL: "sqlite", keepArguments: false, keepPrompts: false)
        let strict = try directory.write(
            "strict.cedar",
            Self.livePolicies + "\n"
                + #"@id("no-big-transfers") forbid (principal, action, resource == Latch::Tool::"pay.transfer") when { context.arguments.amount > 1000 };"#
                + "\n" + #"@id("no-notes") forbid (principal, action, resource == Latch::Tool::"pay.note");"#)
        let result = try await Self.run(["policy", "replay", "--policies", strict, "--since", "1970-01-01T00:00:00Z", "--json"], recorded, in: directory)
        try #require(result.status == 0, "\(result.stderr)")
        let report = try #require(JSONValue(parsing: result.stdout.utf8))
        #expect(
            report["summary"] == .object(["replayed": .int(1), "changed": .int(1), "unchanged": .int(0), "skipped": .int(1), "undecidable": .int(2)]))
        let undecidable = report["undecidable"]?.arrayValue ?? []
        #expect(Set(undecidable.compactMap { $0["id"]?.stringValue }) == Set([recorded.ids["big"], recorded.ids["small"]].compactMap { $0 }))
        #expect(undecidable.allSatisfy { $0["reason"]?.stringValue?.hasPrefix("arguments not kept") == true })
        #expect(report["changes"]?.arrayValue?.first?["id"]?.stringValue == recorded.ids["note"])
    }

    @Test("keyed hashes are stable across restarts of a store (same ledger key) and differ between stores (different keys)")
    func hashesFollowTheLedgerKey() async throws {
        let directory = try TemporaryDirectory()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        func hash(_ name: String) async throws -> String {
            let data = directory.url.appendingPathComponent(name).path
            let kek = try StoreAccess.keyEncryptionKey(kekFile: nil, dataDirectory: data, databaseURL: "sqlite", environment: [:], logger: logger)
            return try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: data, logger: logger) { store in
                let keys = try await LedgerKeyring.loadOrCreate(
                    store: store, kek: kek, keyName: LedgerKeyring.keyName(trustDomain: TestKeys.trustDomain), clock: TestWallClock())
                return RecordPrivacy(ledgerKey: keys.mac).argumentHMAC(.string(Self.iban))
            }
        }
        let first = try await hash("a")
        #expect(try await hash("a") == first, "the same store after a restart")
        #expect(try await hash("b") != first, "another store")
    }

    @Test("replay fails closed on a bad policy file or time")
    func replayBadInput() async throws {
        let directory = try TemporaryDirectory()
        let recorded = try await Self.record(in: directory, databaseURL: "sqlite", keepArguments: false, keepPrompts: false)
        let bad = try directory.write("bad.cedar", "permit (principal, action, resource) when { context.")
        let result = try await Self.run(["policy", "replay", "--policies", bad, "--since", "1h"], recorded, in: directory)
        #expect(result.status != 0 && result.stderr.contains("bad.cedar") && result.stdout.isEmpty, "\(result.stderr)")
        let missing = try await Self.run(["policy", "replay", "--policies", "nowhere.cedar", "--since", "1h"], recorded, in: directory)
        #expect(missing.status != 0 && missing.stdout.isEmpty)
        let time = try await Self.run(["policy", "replay", "--policies", bad, "--since", "yesterday"], recorded, in: directory)
        #expect(time.status != 0 && time.stderr.contains("--since"))
    }
}
