import Foundation
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchSecrets
import LatchStoreSupport
import LatchTesting
import PostgresNIO
import Testing

@testable import LatchPostgres

@Suite("PostgresStoreConfiguration")
struct PostgresStoreConfigurationTests {
    @Test(
        "URLs parse into host, port, user, password, database, TLS mode and schema",
        arguments: [
            ("postgres://u:p@db.example:6543/latch", "db.example", 6543, "u", "p", "latch", PostgresStoreConfiguration.TLSMode.prefer, nil),
            ("postgresql://u@localhost/latch?sslmode=disable", "localhost", 5432, "u", nil, "latch", .disable, nil),
            ("postgres://u:p%40ss%2Fw@127.0.0.1:5/d?sslmode=verify-full&schema=latch_1", "127.0.0.1", 5, "u", "p@ss/w", "d", .require, "latch_1"),
            ("postgres://a%20b:x@h/d?sslmode=require", "h", 5432, "a b", "x", "d", .require, nil),
        ] as [(String, String, Int, String, String?, String, PostgresStoreConfiguration.TLSMode, String?)])
    func parsesURL(
        _ url: String, host: String, port: Int, user: String, password: String?, database: String,
        tls: PostgresStoreConfiguration.TLSMode, schema: String?
    ) throws {
        let configuration = try PostgresStoreConfiguration(url: url)
        #expect(configuration.host == host)
        #expect(configuration.port == port)
        #expect(configuration.username == user)
        #expect(configuration.password?.unredacted == password)
        #expect(configuration.database == database)
        #expect(configuration.tls == tls)
        #expect(configuration.schema == schema)
    }

    @Test(
        "malformed URLs are configuration errors that never echo the password",
        arguments: [
            "", "not a url", "mysql://u:secretpw@h/d", "postgres://u:secretpw@/d", "postgres://:secretpw@h/d",
            "postgres://u:secretpw@h", "postgres://u:secretpw@h/", "postgres://u:secretpw@h/a/b",
            "postgres://u:secretpw@h/d?sslmode=bogus", "postgres://u:secretpw@h/d?unknown=1",
            "postgres://u:secretpw@h/d?schema=Upper", "postgres://u:secretpw@h/d?schema=1abc",
            "postgres://u:secretpw@h/d?schema=a%22b", "postgres://u:secretpw@h/d?schema=" + String(repeating: "s", count: 64),
        ])
    func rejectsURL(_ url: String) {
        do {
            _ = try PostgresStoreConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.code == .configuration)
            #expect(!error.message.contains("secretpw"))
        }
    }

    @Test("the description shows where it connects but not the password")
    func descriptionRedactsPassword() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgres://latch:hunter2@db:5432/latch?schema=s")
        #expect(configuration.description == "postgres://latch:<redacted>@db:5432/latch?sslmode=prefer&schema=s")
        #expect(!"\(configuration)".contains("hunter2"))
        #expect(!String(reflecting: configuration).contains("hunter2"))
    }
}

@Suite("PostgreSQL test environment")
struct PostgresTestEnvironmentTests {
    @Test("on CI the PostgreSQL URL is set, so the PostgreSQL suites really ran", .enabled(if: PostgresTestEnvironment.isCI))
    func urlSetOnCI() {
        #expect(PostgresTestEnvironment.url != nil, "CI=true but LATCH_TEST_POSTGRES_URL is missing: .ci/run must start PostgreSQL")
    }
}

@Suite("PostgresIdentityStore", .enabled(if: PostgresTestEnvironment.shouldRun, PostgresTestEnvironment.skipNote))
struct PostgresIdentityStoreTests {
    @Test("nodes migrating one fresh database at once apply each migration exactly once")
    func concurrentMigrations() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await PostgresFixture.run(configuration) {
                            store in try await store.appliedMigrations()
                        }
                    }
                }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            let versions = StoreSchema.migrations.map(\.version)
            #expect(applied.count == 6)
            #expect(applied.allSatisfy { $0 == versions })
            try await PostgresFixture.run(configuration) { store in
                let rows = try await store.client.query("SELECT count(*) FROM latch_migrations").collect()
                #expect(try rows.first?.decode(Int64.self) == Int64(versions.count))
                #expect(try await store.entriesRevision() == 0, "the seed row was inserted once")
                #expect(try await store.keysRevision() == 0, "the keys row was inserted once, at 0 in an empty store")
                #expect(try await store.secretsRevision() == 0, "the secrets row was inserted once")
            }
        }
    }

    @Test("migration 8's backfill copies each stored record's trace ID into its column, so the query finds records stored before it")
    func traceIDBackfill() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            var record = ConformanceValues.fullDecisionRecord("traced")
            record.traceID = "0af7651916cd43dd8448eb211c80319c"
            let traced = record
            let backfill = try #require(StoreSchema.migrations.first { $0.version == 8 }?.statements(.postgres).first { $0.hasPrefix("UPDATE") })
            try await PostgresFixture.run(configuration) { store async throws in
                try await store.saveDecisionRecords([traced, ConformanceValues.decisionRecord("untraced")], ledgerKey: TestKeys.ledgerKey)
                // As the rows stored before migration 8 were: no trace_id column value.
                try await store.client.query("UPDATE decision_records SET trace_id = NULL")
                #expect(try await store.decisionRecords(matching: DecisionRecordQuery(traceID: traced.traceID)).isEmpty)
                try await store.client.query(PostgresQuery(unsafeSQL: backfill))
                let found = try await store.decisionRecords(matching: DecisionRecordQuery(traceID: traced.traceID))
                #expect(found == [IndexedDecisionRecord(record: traced, ledgerIndex: 0)])
                #expect(try await store.decisionRecords(matching: DecisionRecordQuery(limit: 10)).count == 2, "the untraced row still reads back")
            }
        }
    }

    @Test("migration 14 drops the grant columns the claims repeat: grants and tasks stored before it read back the same")
    func grantColumnsDropped() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            let chain = try ConformanceValues.grantChain()
            let oldView = try #require(StoreSchema.migrations.first { $0.version == 3 }?.statements(.postgres).first { $0.hasPrefix("CREATE VIEW") })
            try await PostgresFixture.run(configuration) { store async throws in
                // Back to the schema before migration 14, with rows as a version-13 node stored them.
                for statement in [
                    "DROP VIEW grant_tasks", "ALTER TABLE grants ADD COLUMN subject TEXT NOT NULL",
                    "ALTER TABLE grants ADD COLUMN holder TEXT NOT NULL",
                    "ALTER TABLE grants ADD COLUMN intent TEXT NOT NULL", oldView, "DELETE FROM latch_migrations WHERE version = 14",
                ] {
                    try await store.client.query(PostgresQuery(unsafeSQL: statement))
                }
                for grant in chain {
                    let claims = String(decoding: GrantRecord(grant).claims, as: UTF8.self)
                    try await store.client.query(
                        """
                        INSERT INTO grants (id, task_id, parent_id, subject, holder, depth, intent, claims, issued_at, expires_at)
                        VALUES (\(grant.id), \(grant.taskID), \(grant.parentID), \(grant.subject.description), \(grant.holder.description),
                                \(Int64(grant.depth)), \(grant.intent), \(claims), \(grant.issuedAt), \(grant.expiresAt))
                        """)
                }
                try await store.client.query(
                    """
                    INSERT INTO grant_revocations (grant_id, reason, revoked_at, expires_at, revision)
                    VALUES ('root', 'completed', \(ConformanceValues.grantTime + 1_000), \(ConformanceValues.grantTime + 600_000), 1)
                    """)
            }
            try await PostgresFixture.run(configuration) { store async throws in
                #expect(try await store.appliedMigrations() == StoreSchema.migrations.map(\.version))
                var columns: [String] = []
                let rows = try await store.client.query(
                    """
                    SELECT attname FROM pg_attribute WHERE attrelid = 'grants'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
                    """)
                for try await name in rows.decode(String.self) { columns.append(name) }
                #expect(columns == ["id", "task_id", "parent_id", "depth", "claims", "issued_at", "expires_at"])
                #expect(try await store.grants(taskID: "task-1") == chain)
                #expect(try await store.task(id: "task-1") == (try ConformanceValues.grantChainTask()))
                // New rows go in without the dropped columns.
                try await store.saveGrants([try ConformanceValues.grant("root-2", task: "task-2")])
                #expect(try await store.task(id: "task-2")?.rootGrantID == "root-2")
            }
        }
    }

    @Test("migration 15 takes the egress path out of approvals stored before it, and nothing else")
    func approvalPathsSealed() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            let (before, after) = ConformanceValues.approvalsWithEgressPaths()
            try await PostgresFixture.run(configuration) { store async throws in
                for approval in before { _ = try await store.createApproval(approval, maxPending: 10, now: approval.createdAt) }
                // Back to before migration 15 (its rows as an older version left them).
                try await store.client.query("DELETE FROM latch_migrations WHERE version = 15")
                #expect(try await store.approval(id: "egress")?.risk == before[0].risk)
            }
            try await PostgresFixture.run(configuration) { store async throws in
                #expect(try await store.appliedMigrations() == StoreSchema.migrations.map(\.version))
                for approval in after { #expect(try await store.approval(id: approval.id) == approval, "\(approval.id)") }
            }
        }
    }

    @Test("every query filter can read an index, never needs the whole table; a grant's records come through the task index")
    func queryPlans() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            try await PostgresFixture.run(configuration) { store async throws in
                try await store.saveDecisionRecords([ConformanceValues.fullDecisionRecord("r")], ledgerKey: TestKeys.ledgerKey)
                try await store.client.withConnection { connection in
                    // A table this small is cheapest to read whole: with that way off, the plan shows the index a large one uses.
                    try await connection.query("SET enable_seqscan = off", logger: PostgresTestEnvironment.logger)
                    for (query, index) in IdentityStoreConformance.queryPlans {
                        let sql = DecisionRecordQuerySQL(query)
                        var plan: [String] = []
                        for try await line in try await connection.query(
                            PostgresIdentityStore.postgresQuery(sql, prefix: "EXPLAIN "), logger: PostgresTestEnvironment.logger
                        ).decode(String.self) {
                            plan.append(line)
                        }
                        let joined = plan.joined(separator: "\n")
                        #expect(joined.contains(" \(index) ") && !joined.contains("Seq Scan on decision_records"), "\(sql.whereClause):\n\(joined)")
                    }
                }
            }
        }
    }

    @Test("migration 13 records which tasks each grant's records are in, so records stored before it are found by grant")
    func grantTaskBackfill() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            var other = ConformanceValues.decisionRecord("b", task: "task-2")
            other.grantID = "grant-2"
            let second = other
            let grantID = ConformanceValues.decisionRecord("a").grantID
            let backfill = try #require(StoreSchema.migrations.first { $0.version == 13 }?.statements(.postgres).first { $0.hasPrefix("INSERT") })
            try await PostgresFixture.run(configuration) { store async throws in
                try await store.saveDecisionRecords([ConformanceValues.decisionRecord("a"), second], ledgerKey: TestKeys.ledgerKey)
                // As before migration 13: no row says where a grant's records are.
                try await store.client.query("DELETE FROM decision_record_grants")
                #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: grantID)).isEmpty)
                try await store.client.query(PostgresQuery(unsafeSQL: backfill))
                #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: grantID)).map(\.record.id) == ["a"])
                #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: "grant-2")).map(\.record.id) == ["b"])
            }
        }
    }

    @Test("a database migrated by a newer Latch is refused with a configuration error")
    func refusesNewerSchema() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            try await PostgresFixture.run(configuration) { store async throws in
                try await store.client.query("INSERT INTO latch_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
            }
            await #expect(throws: LatchError(.configuration, "")) {
                try await PostgresFixture.run(configuration) { _ in }
            }
        }
    }

    @Test(
        "a store that cannot be used is refused with the server's reason, never the password",
        arguments: ["password", "database", "port"])
    func unusableStoreRefused(_ wrong: String) async throws {
        var configuration = try PostgresTestEnvironment.configuration(schema: PostgresFixture().schema)
        let expected: String
        switch wrong {
        case "password":
            configuration.password = Redacted("not-the-password-\(UInt32.random(in: 0..<UInt32.max))")
            expected = "password authentication failed"
        case "database":
            configuration.database = "latch_no_such_database"
            expected = "does not exist (3D000)"
        default:
            configuration.port = 1
            expected = "refused"
        }
        // The pool alone would retry until its circuit breaker trips and report only that.
        do {
            try await PostgresFixture.run(configuration) { _ in }
            Issue.record("a store with the wrong \(wrong) was used")
        } catch let error as LatchError {
            #expect(error.code == .io)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.contains("PostgreSQL at \(configuration.host):\(configuration.port)"), "\(error.message)")
            if let password = configuration.password?.unredacted { #expect(!error.message.contains(password)) }
        }
    }

    @Test("tables live in the configured schema, not in public")
    func schemaIsolation() async throws {
        try await PostgresFixture.withSchema { fixture, configuration in
            try await PostgresFixture.run(configuration) { store in
                let rows = try await store.client.query(
                    "SELECT table_schema FROM information_schema.tables WHERE table_name = 'registration_entries' AND table_schema = \(fixture.schema)"
                ).collect()
                #expect(rows.count == 1)
            }
        }
    }

    @Test("a hand-edited row that no longer parses is reported, not skipped")
    func corruptRowReported() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            try await PostgresFixture.run(configuration) { store in
                try await store.createEntry(try ConformanceValues.entry("bad", selectors: ["unix:uid:1"]))
                try await store.client.query("UPDATE registration_entries SET attributes = '{\"a\":null}'")
                await #expect(throws: LatchError(.internalError, "")) { try await store.listEntries() }
            }
        }
    }

    @Test("a hand-edited grant or revocation row that no longer decodes is reported, not skipped")
    func corruptGrantRowsReported() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            try await PostgresFixture.run(configuration) { store in
                try await store.saveGrants(try ConformanceValues.grantChain())
                _ = try await store.revoke([ConformanceValues.revocation("root")])
                try await store.client.query("UPDATE grants SET claims = '{}' WHERE id = 'child'")
                try await store.client.query("UPDATE grant_revocations SET reason = 'expired'")
                #expect(try await store.grant(id: "root") != nil)
                await #expect(throws: LatchError(.internalError, "")) { try await store.grants(taskID: "task-1") }
                await #expect(throws: LatchError(.internalError, "")) { try await store.revocation(grantID: "root") }
            }
        }
    }
}

@Suite("PostgresIdentityStore durability", .enabled(if: PostgresTestEnvironment.shouldRun, PostgresTestEnvironment.skipNote))
struct PostgresDurabilityTests {
    @Test("the test server acknowledges commits only once durable (fsync on, synchronous_commit on)")
    func serverCommitsDurably() async throws {
        try await PostgresFixture.withSchema { _, configuration in
            try await PostgresFixture.run(configuration) { store async throws in
                #expect(try await store.serverCommitsDurably())
            }
        }
    }
}
