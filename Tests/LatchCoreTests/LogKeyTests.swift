import LatchCore
import Testing

@Suite("LogKey")
struct LogKeyTests {
    @Test("keys are unique")
    func unique() {
        #expect(Set(LogKey.all).count == LogKey.all.count)
    }

    @Test("keys are lowercase dotted words", arguments: LogKey.all)
    func wellFormed(key: String) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz.")
        #expect(!key.isEmpty)
        #expect(key.allSatisfy { allowed.contains($0) })
        #expect(!key.hasPrefix(".") && !key.hasSuffix(".") && !key.contains(".."))
    }

    @Test("the documented names are stable")
    func stableNames() {
        #expect(LogKey.agentID == "agent.id")
        #expect(LogKey.taskID == "task.id")
        #expect(LogKey.grantID == "grant.id")
        #expect(LogKey.toolName == "tool.name")
    }
}
