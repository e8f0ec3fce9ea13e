import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchTesting
import Testing

@Suite("RecordPrivacy")
struct RecordPrivacyTests {
    let privacy = RecordPrivacy(ledgerKey: TestKeys.ledgerKey)

    static func record(_ id: String) -> DecisionRecord {
        ConformanceValues.decisionRecord(id, tool: "pay.transfer")
    }

    @Test("keyed hashes follow the documented derivation (vectors from Python's hmac and hashlib)")
    func vectors() {
        // HKDF-SHA256(IKM = the MAC key, salt = empty, info = "latch.ledger.value-hmac.v1", L = 32), then
        // HMAC-SHA256(tag ‖ 0 ‖ value).
        #expect(self.privacy.argumentHMAC(.string("DE89370400440532013000")) == "e76c341f72721fe281e631c93bf54145e69ce7172df6a183a442abeed4b60649")
        #expect(self.privacy.promptHMAC("pay the landlord") == "6db7c4df77ce3f7b0b1b4d3339e6a9b484e9c73c84acea9759ad02d0d8f6a218")
    }

    @Test("keyed hashes differ by field and by ledger key, and a different key derives a different value key")
    func separation() throws {
        #expect(self.privacy.promptHMAC("x") != self.privacy.argumentHMAC(.string("x")))
        let other = RecordPrivacy(ledgerKey: try LedgerKey(bytes: [UInt8](repeating: 9, count: 32)))
        #expect(other.argumentHMAC(.string("x")) != self.privacy.argumentHMAC(.string("x")))
        #expect(RecordPrivacy(ledgerKey: TestKeys.ledgerKey).argumentHMAC(.int(5)) == self.privacy.argumentHMAC(.int(5)))
    }

    @Test("a typed value matches a string argument and a JSON one")
    func typedMatching() {
        var record = Self.record("r")
        record.argumentHMACs = self.privacy.argumentHMACs(
            ["iban": .string("DE89"), "amount": .int(5000), "code": .string("123"), "other": .string("x")], selected: ["iban", "amount", "code"])
        #expect(record.argumentHMACs.keys.sorted() == ["amount", "code", "iban"])
        #expect(self.privacy.matches(record, argument: "iban", typed: "DE89"))
        #expect(self.privacy.matches(record, argument: "iban", typed: #""DE89""#))
        #expect(self.privacy.matches(record, argument: "amount", typed: "5000"))
        #expect(self.privacy.matches(record, argument: "code", typed: "123"), "a string of digits matches when typed plainly")
        #expect(!self.privacy.matches(record, argument: "amount", typed: "500"))
        #expect(!self.privacy.matches(record, argument: "other", typed: "x"), "an argument not selected is not recorded")
        #expect(!self.privacy.matches(record, argument: "code", typed: "DE89"), "the name says which argument")
    }

    @Test("sealed values open for their own record and field only, with a clear error otherwise")
    func sealing() throws {
        var record = Self.record("rec-1")
        record.promptSealed = try self.privacy.sealPrompt("Résumé ✉️ secret", recordID: record.id)
        record.argumentsSealed = try self.privacy.sealArguments(.object(["iban": .string("DE89")]), recordID: record.id)
        #expect(try self.privacy.openPrompt(of: record) == "Résumé ✉️ secret")
        #expect(try self.privacy.openArguments(of: record) == .object(["iban": .string("DE89")]))
        #expect(try self.privacy.openPrompt(of: Self.record("plain")) == nil)
        #expect(record.promptSealed?.contains("secret") == false)

        var moved = Self.record("rec-2")
        moved.promptSealed = record.promptSealed
        do {
            _ = try self.privacy.openPrompt(of: moved)
            Issue.record("a sealed prompt opened in another record")
        } catch {
            #expect(
                error.message
                    == "record rec-2: prompt_sealed does not open: it was sealed for another record or field, under another ledger key, or altered")
        }
        var swapped = record
        swapped.argumentsSealed = record.promptSealed
        #expect(throws: LatchError.self) { try self.privacy.openArguments(of: swapped) }
        let other = RecordPrivacy(ledgerKey: try LedgerKey(bytes: [UInt8](repeating: 9, count: 32)))
        #expect(throws: LatchError.self) { try other.openPrompt(of: record) }
        var garbled = record
        garbled.promptSealed = "not base64!"
        #expect(throws: LatchError.self) { try self.privacy.openPrompt(of: garbled) }
    }
}
