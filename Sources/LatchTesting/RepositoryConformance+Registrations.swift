import LatchCore
import LatchIdentity
import Testing

extension IdentityStoreConformance {
    typealias V = ConformanceValues

    static let registrationChecks: [Check] = [
        Check("a created entry reads back equal; an unknown id reads nil") { fixture in
            try await fixture.withStore { store async throws in
                let entry = try V.entry(
                    "e1", selectors: ["unix:uid:1000", "unix:gid:50"], attributes: ["team": .string("payments"), "tier": .long(2)])
                try await store.createEntry(entry)
                let read = try await store.entry(id: "e1")
                #expect(read == entry)
                #expect(read?.selectors == [V.selector("unix:gid:50"), V.selector("unix:uid:1000")])
                #expect(try await store.entry(id: "e2") == nil)
                #expect(try await store.entry(id: "E1") == nil, "ids compare exactly")
                #expect(try await store.listEntries() == [entry])
            }
        },
        Check("listEntries orders by creation time, then id (bytewise)") { fixture in
            try await fixture.withStore { store async throws in
                let specs: [(String, Int64)] = [("b", 20), ("a", 20), ("c", 10), ("A", 20), ("z", 5), ("a-2", 20), ("a2", 20)]
                for (id, createdAt) in specs {
                    try await store.createEntry(try V.entry(id, selectors: ["unix:uid:\(createdAt)"], createdAt: createdAt))
                }
                let ids = try await store.listEntries().map(\.id)
                #expect(ids == ["z", "c", "A", "a", "a-2", "a2", "b"])
            }
        },
        Check("an empty store lists nothing and matches nothing") { fixture in
            try await fixture.withStore { store async throws in
                #expect(try await store.listEntries().isEmpty)
                #expect(try await store.entries(matching: [V.selector("unix:uid:0")]).isEmpty)
                #expect(try await store.entries(matching: []).isEmpty)
                #expect(try await store.deleteEntry(id: "missing") == false)
            }
        },
        Check("a duplicate entry id is a conflict and leaves the first entry and the revision alone") { fixture in
            try await fixture.withStore { store async throws in
                let first = try V.entry("dup", selectors: ["unix:uid:1"])
                try await store.createEntry(first)
                let revision = try await store.entriesRevision()
                await expectLatchError(.conflict, "second create with the same id") {
                    try await store.createEntry(try V.entry("dup", path: "/other", selectors: ["unix:uid:2"], createdAt: 9))
                }
                #expect(try await store.entry(id: "dup") == first)
                #expect(try await store.entriesRevision() == revision)
                #expect(try await store.entries(matching: [V.selector("unix:uid:2")]).isEmpty, "the rejected entry's selectors were not stored")
            }
        },
        Check("deleteEntry removes the entry and its selectors and reports whether it existed") { fixture in
            try await fixture.withStore { store async throws in
                try await store.createEntry(try V.entry("d1", selectors: ["unix:uid:7"]))
                try await store.createEntry(try V.entry("d2", selectors: ["unix:uid:7"], createdAt: 2_000))
                #expect(try await store.deleteEntry(id: "d1"))
                #expect(try await store.deleteEntry(id: "d1") == false)
                #expect(try await store.entry(id: "d1") == nil)
                #expect(try await store.entries(matching: [V.selector("unix:uid:7")]).map(\.id) == ["d2"])
                // The id can be reused after deletion.
                try await store.createEntry(try V.entry("d1", selectors: ["unix:uid:8"], createdAt: 3_000))
                #expect(try await store.listEntries().map(\.id) == ["d2", "d1"])
            }
        },
        Check("matching returns exactly the entries whose selectors are all presented") { fixture in
            try await fixture.withStore { store async throws in
                let entries: [(String, [String])] = [
                    ("uid", ["unix:uid:1000"]),
                    ("uid-gid50", ["unix:uid:1000", "unix:gid:50"]),
                    ("uid-gid60", ["unix:uid:1000", "unix:gid:60"]),
                    ("k8s", ["k8s:ns:prod", "k8s:sa:api"]),
                    ("mixed", ["k8s:ns:prod", "unix:uid:1000"]),
                    ("other-uid", ["unix:uid:1001"]),
                ]
                for (index, (id, selectors)) in entries.enumerated() {
                    try await store.createEntry(try V.entry(id, selectors: selectors, createdAt: Int64(index)))
                }
                let cases: [([String], [String])] = [
                    (["unix:uid:1000"], ["uid"]),
                    (["unix:uid:1000", "unix:gid:50"], ["uid", "uid-gid50"]),
                    (["unix:uid:1000", "unix:gid:50", "unix:gid:60"], ["uid", "uid-gid50", "uid-gid60"]),
                    (["k8s:ns:prod"], []),
                    (["k8s:ns:prod", "k8s:sa:api"], ["k8s"]),
                    (["k8s:ns:prod", "k8s:sa:api", "unix:uid:1000", "unix:pid:4"], ["uid", "k8s", "mixed"]),
                    (["unix:uid:100"], []),
                    (["unix:uid:10000"], []),
                    (["unix:uid:1000 "], []),
                    (["UNIX:uid:1000"], []),
                    (["unix:UID:1000"], []),
                    (["unix:uid:%"], []),
                    (["unix:uid:_000"], []),
                    (["unix:gid:50"], []),
                    (["docker:label:x"], []),
                ]
                for (presented, expected) in cases {
                    let got = try await store.entries(matching: Set(presented.map(V.selector))).map(\.id)
                    #expect(got == expected, "presented \(presented)")
                }
            }
        },
        Check("matching agrees with a subset check on seeded random entries and presented sets") { fixture in
            try await fixture.withStore { store async throws in
                var rng = SeededGenerator(seed: 0x1A7C_4E5D)
                let universe = (0..<12).map { V.selector("t\($0 % 3):v\($0)") }
                var entries: [RegistrationEntry] = []
                for index in 0..<40 {
                    let count = Int.random(in: 1...4, using: &rng)
                    let selectors = (0..<count).map { _ in universe.randomElement(using: &rng)!.description }
                    let entry = try V.entry((index < 10 ? "r0" : "r") + String(index), selectors: selectors, createdAt: Int64(index % 7))
                    entries.append(entry)
                    try await store.createEntry(entry)
                }
                let byOrder = entries.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
                for _ in 0..<60 {
                    let presented = Set((0..<Int.random(in: 0...8, using: &rng)).map { _ in universe.randomElement(using: &rng)! })
                    let expected = byOrder.filter { Set($0.selectors).isSubset(of: presented) && !presented.isEmpty }
                    let got = try await store.entries(matching: presented)
                    #expect(got == expected, "presented \(presented.sorted())")
                }
            }
        },
        Check("the revision grows with every change to entries and only then") { fixture in
            try await fixture.withStore { store async throws in
                var last = try await store.entriesRevision()
                func expectGrew(_ grew: Bool, _ what: Comment) async throws {
                    let now = try await store.entriesRevision()
                    if grew { #expect(now > last, what) } else { #expect(now == last, what) }
                    last = now
                }
                try await store.createEntry(try V.entry("r1", selectors: ["unix:uid:1"]))
                try await expectGrew(true, "after create")
                _ = try await store.listEntries()
                _ = try await store.entries(matching: [V.selector("unix:uid:1")])
                _ = try await store.entry(id: "r1")
                try await expectGrew(false, "after reads")
                try? await store.createEntry(try V.entry("r1", selectors: ["unix:uid:2"]))
                try await expectGrew(false, "after a conflicting create")
                #expect(try await store.deleteEntry(id: "nope") == false)
                try await expectGrew(false, "after deleting a missing entry")
                try await store.saveKey(V.key("k"))
                try await store.createJoinToken(V.token(1))
                try await expectGrew(false, "after key and token writes")
                #expect(try await store.deleteEntry(id: "r1"))
                try await expectGrew(true, "after delete")
            }
        },
        Check("another handle on the same storage sees entry changes and the new revision") { fixture in
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    let before = try await reader.entriesRevision()
                    try await writer.createEntry(try V.entry("x1", selectors: ["unix:uid:42"]))
                    #expect(try await reader.entriesRevision() > before)
                    #expect(try await reader.entries(matching: [V.selector("unix:uid:42")]).map(\.id) == ["x1"])
                    let afterCreate = try await reader.entriesRevision()
                    #expect(try await reader.deleteEntry(id: "x1"))
                    #expect(try await writer.entriesRevision() > afterCreate)
                    #expect(try await writer.entry(id: "x1") == nil)
                }
            }
        },
        Check("concurrent creates of distinct entries all land, and the revision counts each") { fixture in
            try await fixture.withStore { store async throws in
                let before = try await store.entriesRevision()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<24 {
                        group.addTask {
                            try await store.createEntry(try V.entry("c\(index)", selectors: ["unix:uid:\(index)", "unix:gid:1"]))
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await store.listEntries().count == 24)
                #expect(try await store.entriesRevision() == before + 24)
            }
        },
        Check("concurrent creates with one id: exactly one succeeds, the rest conflict") { fixture in
            try await fixture.withStore { store async throws in
                let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<12 {
                        group.addTask {
                            do {
                                try await store.createEntry(try V.entry("same", selectors: ["unix:uid:\(index)"]))
                                return true
                            } catch let error as LatchError where error.code == .conflict {
                                return false
                            }
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 }.count == 1)
                let stored = try #require(try await store.entry(id: "same"))
                #expect(stored.selectors.count == 1)
            }
        },
        Check("attributes, SPIFFE IDs and selectors round-trip exactly, Unicode included") { fixture in
            try await fixture.withStore { store async throws in
                let attributes: [String: EntryAttribute] = [
                    "team": .string("payments"),
                    "empty": .string(""),
                    "quotes": .string(#"say "hi" \ back\slash / 'single' ; DROP TABLE registration_entries; --"#),
                    "controls": .string("tab\tnewline\ncr\rnul\u{0}bell\u{7}esc\u{1B}del\u{7F}"),
                    "unicode": .string("café (NFC) cafe\u{301} (NFD) 日本語 🧑🏽‍💻 \u{FEFF}bom \u{2028}\u{2029} עברית"),
                    "combining only": .string("\u{301}\u{302}"),
                    "max": .long(Int64.max),
                    "min": .long(Int64.min),
                    "zero": .long(0),
                    "yes": .bool(true),
                    "no": .bool(false),
                    "intents": .strings(["read:tickets", "write:tickets", "", "🧪", "a,b", "[\"x\"]"]),
                    "none": .strings([]),
                    "": .string("empty key"),
                    "ключ \u{FEFF}": .bool(true),
                    "e\u{301}": .long(1),
                ]
                let entry = try V.entry(
                    "unicode-é-🧪", path: "/ns/prod/sa/api-server_v1.2", selectors: ["k8s:pod-label:app=café 🧪", "unix:path:/usr/bin/x y"],
                    attributes: attributes)
                try await store.createEntry(entry)
                let read = try #require(try await store.entry(id: "unicode-é-🧪"))
                #expect(read == entry)
                // Swift's String equality ignores normalization: compare scalars too.
                for (key, value) in attributes {
                    guard case .string(let expected) = value else { continue }
                    guard case .string(let got) = read.attributes[key] else {
                        Issue.record("attribute \(key) missing or retyped")
                        continue
                    }
                    #expect(Array(got.unicodeScalars) == Array(expected.unicodeScalars), "attribute \(key)")
                }
                #expect(Set(read.attributes.keys.map { Array($0.unicodeScalars) }) == Set(attributes.keys.map { Array($0.unicodeScalars) }))
                #expect(read.spiffeID.description == "spiffe://example.org/ns/prod/sa/api-server_v1.2")
                #expect(
                    try await store.entries(matching: [V.selector("k8s:pod-label:app=café 🧪"), V.selector("unix:path:/usr/bin/x y")]).map(\.id)
                        == ["unicode-é-🧪"])
            }
        },
        Check("an entry with many selectors round-trips and matches only when all are presented") { fixture in
            try await fixture.withStore { store async throws in
                let selectors = (0..<200).map { "k8s:label:key\($0)=value\($0)" }
                let entry = try V.entry("wide", selectors: selectors)
                try await store.createEntry(entry)
                #expect(try await store.entry(id: "wide") == entry)
                let all = Set(selectors.map(V.selector))
                #expect(try await store.entries(matching: all).map(\.id) == ["wide"])
                var missingOne = all
                missingOne.remove(V.selector(selectors[123]))
                #expect(try await store.entries(matching: missingOne).isEmpty)
            }
        },
        Check("malformed entries are rejected as invalid input and store nothing") { fixture in
            try await fixture.withStore { store async throws in
                let before = try await store.entriesRevision()
                let long = String(repeating: "x", count: 256)
                let cases: [(String, RegistrationEntry)] = [
                    ("empty id", try V.entry("", path: "/w", selectors: ["unix:uid:1"])),
                    ("id too long", try V.entry(long, path: "/w", selectors: ["unix:uid:1"])),
                    ("id with NUL", try V.entry("a\u{0}b", path: "/w", selectors: ["unix:uid:1"])),
                    ("no selectors", try V.entry("none", path: "/w", selectors: [])),
                    ("zero X.509 TTL", try V.entry("ttl0", path: "/w", selectors: ["unix:uid:1"], x509TTL: 0)),
                    ("negative JWT TTL", try V.entry("ttl-", path: "/w", selectors: ["unix:uid:1"], jwtTTL: -5)),
                    ("uppercase selector type", try V.entry("upper", path: "/w", selectors: ["Unix:uid:1"])),
                    ("empty selector type", try V.entry("notype", path: "/w", selectors: [":uid:1"])),
                    ("empty selector value", try V.entry("novalue", path: "/w", selectors: ["unix:"])),
                    ("selector value with NUL", try V.entry("nulvalue", path: "/w", selectors: ["unix:uid:\u{0}"])),
                    ("selector value too long", try V.entry("longvalue", path: "/w", selectors: ["unix:" + String(repeating: "v", count: 4097)])),
                    ("too many selectors", try V.entry("many", path: "/w", selectors: (0..<257).map { "unix:uid:\($0)" })),
                ]
                for (what, entry) in cases {
                    await expectLatchError(.invalidInput, what) { try await store.createEntry(entry) }
                }
                #expect(try await store.listEntries().isEmpty)
                #expect(try await store.entriesRevision() == before)
            }
        },
    ]
}
