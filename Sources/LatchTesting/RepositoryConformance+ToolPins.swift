import LatchCore
public import LatchGateway
public import LatchIdentity
import Testing

extension ConformanceValues {
    /// A tool definition as an upstream lists it, its description varied by `variant`.
    public static func toolDefinition(_ tool: String, variant: Int = 0) -> JSONValue {
        .object([
            "name": .string(tool),
            "description": .string(variant == 0 ? "Looks up a customer." : "Looks up a customer (variant \(variant))."),
            "inputSchema": .object([
                "type": .string("object"), "properties": .object(["customer": .object(["type": .string("string")])]),
                "required": .array([.string("customer")]),
            ]),
        ])
    }

    /// A pin of ``toolDefinition(_:variant:)``: accepted pins get `acceptedAt` (= `firstSeen`
    /// unless given) and `acceptedBy`.
    public static func toolPin(
        _ upstream: String, _ tool: String, _ status: ToolPin.Status = .accepted, variant: Int = 0, firstSeen: Int64 = 1_000,
        acceptedAt: Int64? = nil, acceptedBy: String? = nil
    ) -> ToolPin {
        let definition = Self.toolDefinition(tool, variant: variant)
        return ToolPin(
            upstream: upstream, tool: tool, status: status, digest: ToolPin.digest(of: definition), definition: definition, firstSeen: firstSeen,
            acceptedAt: status == .accepted ? (acceptedAt ?? firstSeen) : nil, acceptedBy: status == .accepted ? acceptedBy : nil)
    }
}

extension IdentityStoreConformance {
    static let toolPinChecks: [Check] = [
        Check(
            "tool pins read back equal in every field, ordered by upstream and tool (bytewise), accepted first, from another handle and after a restart"
        ) { fixture in
            // Characters JSON must escape, several scripts, a long description.
            let oddDefinition = JSONValue.object([
                "name": .string("odd"),
                "description": .string("Résumé 日本語 🧑🏽‍💻 \"q\" back\\slash\nnew\ttab \u{1} \u{0} " + String(repeating: "x", count: 5_000)),
                "inputSchema": .object(["type": .string("object"), "properties": .object([:])]),
                "annotations": .object(["readOnlyHint": .bool(true)]),
                "n": .int(-7),
            ])
            let odd = ToolPin(
                upstream: "crm", tool: "odd", status: .accepted, digest: ToolPin.digest(of: oddDefinition), definition: oddDefinition,
                firstSeen: 1_000,
                acceptedAt: 1_000)
            let pins = [
                V.toolPin("crm", "lookup", acceptedAt: 2_000, acceptedBy: "alice"),
                V.toolPin("crm", "lookup", .pending, variant: 1, firstSeen: 3_000),
                V.toolPin("crm", "Lookup", .pending, variant: 2),
                V.toolPin("b-mail", "send", acceptedBy: nil),
                V.toolPin("crm", "é", acceptedBy: "bob"),
                odd,
            ]
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    for pin in pins where pin.status == .accepted || pin.tool != "lookup" {
                        #expect(try await writer.pinFirstDefinition(pin), "\(pin.name) \(pin.status)")
                    }
                    #expect(try await writer.savePendingToolPin(pins[1]))
                    let expected = [pins[3], pins[2], pins[0], pins[1], odd, pins[4]]
                    #expect(try await reader.toolPins(upstream: nil) == expected)
                    #expect(try await reader.toolPins(upstream: "crm") == [pins[2], pins[0], pins[1], odd, pins[4]])
                    #expect(try await reader.toolPins(upstream: "CRM").isEmpty, "upstream names are case-sensitive")
                }
            }
            try await fixture.withStore { store async throws in
                let read = try await store.toolPins(upstream: nil)
                #expect(read.count == pins.count)
                for pin in pins { #expect(read.contains(pin), "\(pin.name) \(pin.status) after a restart") }
                #expect(read.first { $0.tool == "odd" }?.definition == odd.definition, "the definition keeps every character")
                #expect(read.first { $0.upstream == "b-mail" }?.acceptedBy == nil)
            }
        },
        Check("pinFirstDefinition stores only a tool's first definition: none once it has an accepted or a pending one") { fixture in
            try await fixture.withStore { store async throws in
                #expect(try await store.pinFirstDefinition(V.toolPin("crm", "lookup")))
                #expect(try await store.pinFirstDefinition(V.toolPin("crm", "lookup", variant: 1)) == false, "an accepted pin exists")
                #expect(try await store.pinFirstDefinition(V.toolPin("crm", "lookup", .pending, variant: 1)) == false, "any pin counts")
                #expect(try await store.pinFirstDefinition(V.toolPin("crm", "strict", .pending)))
                #expect(try await store.pinFirstDefinition(V.toolPin("crm", "strict")) == false, "a pending pin exists")
                #expect(try await store.pinFirstDefinition(V.toolPin("other", "lookup", variant: 3)), "another upstream's tool of the same name")
                let pins = try await store.toolPins(upstream: nil)
                #expect(pins == [V.toolPin("crm", "lookup"), V.toolPin("crm", "strict", .pending), V.toolPin("other", "lookup", variant: 3)])
            }
        },
        Check("savePendingToolPin keeps one pending definition per tool, the latest, and leaves the accepted one alone") { fixture in
            try await fixture.withStore { store async throws in
                let accepted = V.toolPin("crm", "lookup", acceptedBy: "alice")
                #expect(try await store.pinFirstDefinition(accepted))
                #expect(try await store.savePendingToolPin(V.toolPin("crm", "lookup", .pending, variant: 1, firstSeen: 5_000)))
                #expect(
                    try await store.savePendingToolPin(V.toolPin("crm", "lookup", .pending, variant: 1, firstSeen: 6_000)) == false,
                    "the same definition again changes nothing")
                #expect(try await store.toolPins(upstream: "crm") == [accepted, V.toolPin("crm", "lookup", .pending, variant: 1, firstSeen: 5_000)])
                #expect(try await store.savePendingToolPin(V.toolPin("crm", "lookup", .pending, variant: 2, firstSeen: 7_000)))
                #expect(try await store.toolPins(upstream: "crm") == [accepted, V.toolPin("crm", "lookup", .pending, variant: 2, firstSeen: 7_000)])
                await expectLatchError(.invalidInput, "an accepted pin") {
                    _ = try await store.savePendingToolPin(V.toolPin("crm", "lookup", variant: 3))
                }
                #expect(try await store.toolPins(upstream: nil).count == 2)
            }
        },
        Check("deletePendingToolPin deletes the pending definition only when the digest matches") { fixture in
            try await fixture.withStore { store async throws in
                let accepted = V.toolPin("crm", "lookup")
                let pending = V.toolPin("crm", "lookup", .pending, variant: 1)
                #expect(try await store.pinFirstDefinition(accepted))
                #expect(try await store.savePendingToolPin(pending))
                #expect(
                    try await store.deletePendingToolPin(upstream: "crm", tool: "lookup", digest: accepted.digest) == false, "not the pending digest")
                #expect(try await store.deletePendingToolPin(upstream: "crm", tool: "other", digest: pending.digest) == false)
                #expect(try await store.deletePendingToolPin(upstream: "crm", tool: "lookup", digest: pending.digest))
                #expect(try await store.deletePendingToolPin(upstream: "crm", tool: "lookup", digest: pending.digest) == false, "already gone")
                #expect(try await store.toolPins(upstream: nil) == [accepted], "the accepted pin stays")
            }
        },
        Check("acceptToolPin accepts exactly the pending definition named, replacing the accepted one") { fixture in
            try await fixture.withStore { store async throws in
                let first = V.toolPin("crm", "lookup", acceptedBy: nil)
                let pending = V.toolPin("crm", "lookup", .pending, variant: 1, firstSeen: 4_000)
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "lookup", digest: first.digest, acceptedAt: 1, acceptedBy: "a")
                        == .nothingPending)
                #expect(try await store.pinFirstDefinition(first))
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "lookup", digest: first.digest, acceptedAt: 1, acceptedBy: "a")
                        == .nothingPending,
                    "an accepted pin is not pending")
                #expect(try await store.savePendingToolPin(pending))
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "lookup", digest: first.digest, acceptedAt: 9_000, acceptedBy: "alice")
                        == .digestMismatch(pending: pending.digest))
                #expect(try await store.toolPins(upstream: nil) == [first, pending], "a mismatch changes nothing")
                var expected = pending
                expected.status = .accepted
                expected.acceptedAt = 9_000
                expected.acceptedBy = "alice"
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "lookup", digest: pending.digest, acceptedAt: 9_000, acceptedBy: "alice")
                        == .accepted(expected))
                #expect(try await store.toolPins(upstream: nil) == [expected], "the old accepted pin and the pending one are gone")
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "lookup", digest: pending.digest, acceptedAt: 9_001, acceptedBy: "alice")
                        == .nothingPending,
                    "accepting twice")
                // A strict first definition: pending with no accepted one; accepted by nobody named.
                let strict = V.toolPin("crm", "strict", .pending, firstSeen: 500)
                #expect(try await store.pinFirstDefinition(strict))
                var accepted = strict
                accepted.status = .accepted
                accepted.acceptedAt = 600
                #expect(
                    try await store.acceptToolPin(upstream: "crm", tool: "strict", digest: strict.digest, acceptedAt: 600, acceptedBy: nil)
                        == .accepted(accepted))
                #expect(try await store.toolPins(upstream: "crm") == [expected, accepted], "lookup before strict")
            }
        },
        Check("malformed tool pins are rejected as invalid input and nothing is stored") { fixture in
            try await fixture.withStore { store async throws in
                var wrongDigest = V.toolPin("crm", "a")
                wrongDigest.digest = V.toolPin("crm", "a", variant: 1).digest
                var upperDigest = V.toolPin("crm", "a")
                upperDigest.digest = upperDigest.digest.uppercased()
                var noAcceptedAt = V.toolPin("crm", "a")
                noAcceptedAt.acceptedAt = nil
                var pendingWithBy = V.toolPin("crm", "a", .pending)
                pendingWithBy.acceptedBy = "alice"
                var huge = V.toolPin("crm", "a")
                huge.definition = .object([
                    "name": .string("a"), "description": .string(String(repeating: "x", count: ToolPin.maximumDefinitionBytes)),
                ])
                huge.digest = ToolPin.digest(of: huge.definition)
                let longName = String(repeating: "t", count: ToolPin.maximumNameBytes + 1)
                let cases: [(String, ToolPin)] = [
                    ("a digest that is not the definition's", wrongDigest), ("an uppercase digest", upperDigest),
                    ("an accepted pin without acceptedAt", noAcceptedAt), ("a pending pin with acceptedBy", pendingWithBy),
                    ("a definition over the limit", huge), ("an empty tool", V.toolPin("crm", "")), ("an empty upstream", V.toolPin("", "a")),
                    ("a tool name over the limit", V.toolPin("crm", longName)), ("U+0000 in the tool", V.toolPin("crm", "a\u{0}b")),
                    ("an empty acceptedBy", V.toolPin("crm", "a", acceptedBy: "")),
                ]
                for (what, pin) in cases {
                    await expectLatchError(.invalidInput, what) { _ = try await store.pinFirstDefinition(pin) }
                }
                let digest = V.toolPin("crm", "a").digest
                await expectLatchError(.invalidInput, "accept with a short digest") {
                    _ = try await store.acceptToolPin(upstream: "crm", tool: "a", digest: String(digest.prefix(12)), acceptedAt: 1, acceptedBy: nil)
                }
                await expectLatchError(.invalidInput, "accept with U+0000 in acceptedBy") {
                    _ = try await store.acceptToolPin(upstream: "crm", tool: "a", digest: digest, acceptedAt: 1, acceptedBy: "a\u{0}")
                }
                await expectLatchError(.invalidInput, "delete with an uppercase digest") {
                    _ = try await store.deletePendingToolPin(upstream: "crm", tool: "a", digest: digest.uppercased())
                }
                #expect(try await store.toolPins(upstream: nil).isEmpty)
            }
        },
        Check("concurrent first pins and accepts from two handles: exactly one wins") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    for round in 0..<3 {
                        let tool = "race\(round)"
                        let pinned = try await withThrowingTaskGroup(of: Bool.self) { group in
                            for task in 0..<8 {
                                let store = task.isMultiple(of: 2) ? first : second
                                let pin = V.toolPin("crm", tool, task.isMultiple(of: 3) ? .pending : .accepted, variant: task)
                                group.addTask { try await store.pinFirstDefinition(pin) }
                            }
                            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        #expect(pinned == 1, "round \(round)")
                        #expect(try await second.toolPins(upstream: "crm").filter { $0.tool == tool }.count == 1, "round \(round)")

                        let pending = V.toolPin("crm", tool, .pending, variant: 100 + round)
                        _ = try await first.savePendingToolPin(pending)
                        let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                            for task in 0..<8 {
                                let store = task.isMultiple(of: 2) ? first : second
                                group.addTask {
                                    if case .accepted = try await store.acceptToolPin(
                                        upstream: "crm", tool: tool, digest: pending.digest, acceptedAt: 10_000 + Int64(task), acceptedBy: "op\(task)"
                                    ) {
                                        return true
                                    }
                                    return false
                                }
                            }
                            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        #expect(accepted == 1, "round \(round)")
                        let pins = try await first.toolPins(upstream: "crm").filter { $0.tool == tool }
                        #expect(pins.count == 1 && pins.first?.status == .accepted && pins.first?.digest == pending.digest, "round \(round): \(pins)")
                    }
                }
            }
        },
    ]
}
