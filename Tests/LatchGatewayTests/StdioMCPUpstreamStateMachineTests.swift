import Testing

@testable import LatchGateway

@Suite("StdioMCPUpstream.StateMachine")
struct StdioMCPUpstreamStateMachineTests {
    typealias Machine = StdioMCPUpstream.StateMachine

    static func machine() -> Machine {
        Machine(minimumInterval: .seconds(1), maximumInterval: .seconds(8), stableAfter: .seconds(10))
    }

    @Test("the first start is immediate; callers join a running process")
    func firstStart() {
        var machine = Self.machine()
        #expect(machine.connect(now: .seconds(100)) == .spawn)
        #expect(machine.state == .starting(since: .seconds(100)))
        machine.started(now: .seconds(101))
        #expect(machine.state == .running(since: .seconds(100)))
    }

    @Test("a crash-looping process is restarted no sooner than 1 s, then 2, 4, 8 s (the cap) after its last start")
    func backoff() {
        var machine = Self.machine()
        var now = Duration.seconds(0)
        #expect(machine.connect(now: now) == .spawn)
        machine.started(now: now)
        for expected in [1, 2, 4, 8, 8] {
            now += .milliseconds(100)
            machine.exited(now: now)
            let start = now - .milliseconds(100)
            #expect(machine.connect(now: now) == .wait(.seconds(expected) - .milliseconds(100)))
            #expect(machine.connect(now: start + .seconds(expected) - .milliseconds(1)) == .wait(.milliseconds(1)))
            now = start + .seconds(expected)
            #expect(machine.connect(now: now) == .spawn)
            machine.started(now: now)
        }
        #expect(machine.consecutiveFailures == 5)
    }

    @Test("a process that ran long enough resets the backoff")
    func stableResets() {
        var machine = Self.machine()
        #expect(machine.connect(now: .seconds(0)) == .spawn)
        machine.started(now: .seconds(0))
        machine.exited(now: .milliseconds(10))
        #expect(machine.connect(now: .seconds(1)) == .spawn)
        machine.started(now: .seconds(1))
        machine.exited(now: .seconds(30))
        #expect(machine.consecutiveFailures == 1)
        #expect(machine.connect(now: .seconds(30)) == .spawn)
    }

    @Test("a failed start counts as a crash")
    func failedStart() {
        var machine = Self.machine()
        #expect(machine.connect(now: .seconds(5)) == .spawn)
        machine.startFailed(now: .seconds(5))
        #expect(machine.state == .stopped(lastSpawn: .seconds(5)))
        #expect(machine.connect(now: .seconds(5)) == .wait(.seconds(1)))
    }

    @Test("after shutdown nothing starts, and late events change nothing")
    func shutdown() {
        var machine = Self.machine()
        #expect(machine.connect(now: .zero) == .spawn)
        machine.shutdown()
        machine.started(now: .seconds(1))
        machine.exited(now: .seconds(2))
        #expect(machine.state == .shutDown)
        #expect(machine.connect(now: .seconds(3)) == .refuse)
    }
}
