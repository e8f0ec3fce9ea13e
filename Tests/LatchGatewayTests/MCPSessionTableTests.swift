import LatchCore
import LatchGrants
import LatchIdentity
import Testing

@testable import LatchGateway

@Suite("MCPSessionTable")
struct MCPSessionTableTests {
    static func grant(task: String) throws -> TaskGrant {
        TaskGrant(
            id: "g-" + task, taskID: task, subject: try SPIFFEID(parsing: "spiffe://example.org/agents/a"), audience: ["latch-gateway"], intent: "test",
            scope: GrantScope(tools: [], dataDomains: [], destinations: [], maxSensitivity: .internal), issuedAt: 0, expiresAt: 600_000,
            keyThumbprint: "thumbprint")
    }

    @Test("one task opening sessions in a loop ends its own oldest, never another task's")
    func perTaskCap() throws {
        let table = MCPSessionTable(idleTimeout: 60_000, capacity: 100, perTask: 4)
        let looping = try Self.grant(task: "looping")
        let other = try Self.grant(task: "other")
        let kept = table.open(grant: other, protocolVersion: "2025-11-25", now: 0)
        let opened = (1...10).map { table.open(grant: looping, protocolVersion: "2025-11-25", now: Int64($0)) }
        #expect(table.count(task: "looping") == 4 && table.count() == 5)
        #expect(opened.prefix(6).allSatisfy { table.use($0, grant: looping, now: 20) == nil })
        #expect(opened.suffix(4).allSatisfy { table.use($0, grant: looping, now: 20) != nil })
        #expect(table.use(kept, grant: other, now: 20) != nil)
    }

    @Test("past the capacity, idle sessions go first, then the least recently used")
    func capacity() throws {
        let table = MCPSessionTable(idleTimeout: 1_000, capacity: 3, perTask: 10)
        let grant = try Self.grant(task: "t")
        let idle = table.open(grant: grant, protocolVersion: "2025-11-25", now: 0)
        let first = table.open(grant: grant, protocolVersion: "2025-11-25", now: 900)
        let second = table.open(grant: grant, protocolVersion: "2025-11-25", now: 950)
        _ = table.open(grant: grant, protocolVersion: "2025-11-25", now: 1_500)
        #expect(table.count() == 3 && table.use(idle, grant: grant, now: 1_500) == nil)
        _ = table.use(first, grant: grant, now: 1_600)
        _ = table.open(grant: grant, protocolVersion: "2025-11-25", now: 1_700)
        #expect(table.use(second, grant: grant, now: 1_700) == nil, "the least recently used")
        #expect(table.use(first, grant: grant, now: 1_700) != nil && table.count(task: "t") == 3)
    }
}
