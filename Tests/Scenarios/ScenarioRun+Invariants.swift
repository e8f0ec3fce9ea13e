import Foundation
import GRDB
import LatchAudit
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

@testable import LatchGateway

extension ScenarioRun {
    /// I1 (over the whole run), I3 and I4. I2 is checked at each call; I5 and I6 by the suite.
    func checkInvariants() async throws {
        self.markInvariantsChecked()
        let records = try await self.records()
        let decisions = records.filter { $0.decisionID == nil && $0.method == "tools/call" }
        let ids = Set(decisions.map(\.id))
        // I1: one decision record per attempted call; every outcome record follows its decision;
        // a delegation the guard refused is recorded too (method `delegate`), once.
        if decisions.count != self.attemptCount { self.fail(0, "I1: \(decisions.count) decision records for \(self.attemptCount) attempted calls") }
        let delegations = records.filter { $0.method == MCPGateway.delegateMethod }
        if delegations.count > self.refusedDelegations {
            self.fail(0, "I1: \(delegations.count) delegation records for \(self.refusedDelegations) refused delegations")
        }
        if delegations.contains(where: { $0.allowed || $0.policies.isEmpty }) { self.fail(0, "I1: a delegation record that is not a guard refusal") }
        for record in records where record.method != "tools/call" && record.method != MCPGateway.delegateMethod {
            self.fail(0, "I1: a record of method \(record.method)")
        }
        for outcome in records where outcome.decisionID != nil && !ids.contains(outcome.decisionID ?? "") {
            self.fail(0, "I1: outcome record \(outcome.id) follows no decision")
        }

        // I3: the ledger verifies, under a signed checkpoint of every record.
        let checkpointer = LedgerCheckpointer(repository: self.harness.store, signer: TestKeys.checkpointSigner, clock: self.harness.clock)
        _ = try await checkpointer.checkpoint()
        let verification = try await LedgerVerifier(
            repository: self.harness.store, key: TestKeys.ledgerKey, checkpointVerifier: TestKeys.checkpointSigner.verifier
        ).verify()
        if !verification.isValid { self.fail(0, "I3: the ledger does not verify: \(verification.problems)") }
        if verification.leaves != Int64(records.count) { self.fail(0, "I3: \(verification.leaves) leaves for \(records.count) records") }

        // I4: no secret in clear in the store's files, a record, or anything the gateway said to an agent.
        guard !self.scenario.secrets.isEmpty else { return }
        var files: [(String, [UInt8])] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: self.harness.directory)) ?? [] {
            if let data = FileManager.default.contents(atPath: self.harness.directory + "/" + name) { files.append((name, Array(data))) }
        }
        for secret in self.scenario.secrets {
            let bytes = Array(secret.utf8)
            for (name, data) in files where Self.contains(data, bytes) { self.fail(0, "I4: a secret is in clear in \(name)") }
            for record in records where Self.contains(record.json.serializedBytes, bytes) {
                self.fail(0, "I4: a secret is in clear in record \(record.id)")
            }
            for text in self.visibleAnswers where text.contains(secret) {
                self.fail(0, "I4: a secret is in an answer to the agent: \(text.prefix(300))")
            }
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// D-20: tampering with the stored ledger, each kind on its own copy of the database, and what
    /// the verifier must say. Runs the invariants first (the untampered ledger verifies: I3).
    func tamper(_ kinds: [String], index: Int) async throws {
        try await self.checkInvariants()
        let size = try await self.harness.store.ledgerSize()
        try self.harness.store.close()
        for kind in kinds {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tamper-\(UUID().uuidString)").path
            try FileManager.default.copyItem(atPath: self.harness.directory, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            var target = Int64(size / 2)
            if kind == "flip_decision" {
                // The first denial on the ledger.
                let queue = try DatabaseQueue(path: copy + "/latch.sqlite")
                target =
                    try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT min(leaf_index) FROM decision_records WHERE allowed = 0") } ?? -1
                try queue.close()
            }
            var statements: [String] = []
            var expected: (index: Int64?, kind: LedgerProblem.Kind)
            switch kind {
            case "flip_decision":
                // A denial rewritten as an allow.
                statements = [
                    "UPDATE decision_records SET record = replace(record, '\"allowed\":false', '\"allowed\":true') WHERE leaf_index = \(target)"
                ]
                expected = (target, .modified)
            case "delete":
                statements = ["DELETE FROM decision_records WHERE leaf_index = \(target)"]
                expected = (target, .missing)
            case "truncate":
                statements = [
                    "DELETE FROM decision_records WHERE leaf_index >= \(size - 2)",
                    "UPDATE store_revisions SET revision = \(size - 2) WHERE name = 'ledger'",
                ]
                expected = (size - 2, .missing)
            case "foreign_checkpoint":
                statements = []
                expected = (nil, .checkpoint)
            default: throw ScenarioError("\(self.label) step \(index): unknown tampering \(kind)")
            }
            if !statements.isEmpty {
                let queue = try DatabaseQueue(path: copy + "/latch.sqlite")
                let sql = statements
                try await queue.write { db in for statement in sql { try db.execute(sql: statement) } }
                try queue.close()
            }
            let store = try SQLiteIdentityStore(dataDirectory: copy)
            defer { try? store.close() }
            if kind == "foreign_checkpoint" {
                // A new record and a checkpoint over it signed with a key that is not the ledger's.
                let foreign = try CheckpointSigner(keyName: "example.org/latch/ledger", privateKey: TestKeys.p256("not the ledger key"))
                try await store.saveDecisionRecords(
                    [
                        DecisionRecord(
                            id: "forged", time: self.harness.now + 1, taskID: "t", grantID: "g", agent: "a", subject: "s", actors: [],
                            method: "tools/call", allowed: true)
                    ],
                    ledgerKey: TestKeys.ledgerKey)
                _ = try await LedgerCheckpointer(repository: store, signer: foreign, clock: self.harness.clock).checkpoint()
            }
            let verification = try await LedgerVerifier(
                repository: store, key: TestKeys.ledgerKey, checkpointVerifier: TestKeys.checkpointSigner.verifier
            ).verify()
            self.recordTamper(kind, verification: verification)
            if verification.isValid { self.fail(index, "\(kind): the ledger still verifies") }
            if let at = expected.index, verification.firstBadIndex != at {
                self.fail(index, "\(kind): first bad index \(verification.firstBadIndex.map(String.init) ?? "none"), expected \(at)")
            }
            if !verification.problems.contains(where: { $0.kind == expected.kind }) {
                self.fail(index, "\(kind): problems \(verification.problems), expected one of kind \(expected.kind)")
            }
        }
    }
}
