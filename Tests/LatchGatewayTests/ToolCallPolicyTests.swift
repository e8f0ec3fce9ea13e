import CedarPolicy
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import Testing

@Suite("ToolCallPolicy")
struct ToolCallPolicyTests {
    static let agent = try! SPIFFEID(parsing: "spiffe://gw.test/agents/a")
    static let now: Int64 = 1_800_000_000_000

    static func grant(tools: Set<String> = ["files.read_file", "mail.send_email"], destinations: Set<String> = ["example.com"]) -> TaskGrant {
        TaskGrant(
            id: "g1", taskID: "t1", subject: Self.agent, audience: ["latch-gateway"], intent: "summarize",
            scope: GrantScope(tools: tools, dataDomains: ["sales"], destinations: destinations, maxSensitivity: .confidential),
            issuedAt: Self.now, expiresAt: Self.now + 300_000, keyThumbprint: "jkt")
    }

    static func tool(_ name: String, _ labels: ToolLabels) -> GatewayTool {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        return GatewayTool(upstream: parts[0], definition: .object(["name": .string(parts[1]), "inputSchema": .object([:])]), labels: labels)!
    }

    static let readFile = Self.tool("files.read_file", ToolLabels(sensitivity: .confidential, dataDomain: "sales"))
    static let sendEmail = Self.tool("mail.send_email", ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write, destinationArgument: "to"))

    static func policy(_ text: String) throws -> ToolCallPolicy {
        var set = PolicySet()
        for var policy in try CedarParser.parsePolicies(text) {
            policy.id = policy.annotation("id") ?? policy.id
            try set.add(policy)
        }
        return ToolCallPolicy(policies: set) { _ in ["team": .string("blue")] }
    }

    static let taint = """
        @id("calls") permit (principal, action == Latch::Action::"CallTool", resource) when { principal.team == "blue" };
        @id("no-egress-after-confidential") forbid (principal, action == Latch::Action::"CallTool", resource)
        when { resource.egress == "external" && context.session.sensitivity_read_rank >= 2 };
        """

    @Test("a call outside the grant's scope is denied before any policy, naming the bound")
    func scope() throws {
        let policy = try Self.policy(Self.taint)
        let narrow = Self.grant(tools: ["files.read_file"])
        let outside = policy.decide(grant: narrow, tool: Self.sendEmail, arguments: ["to": .string("bob@example.com")], facts: SessionFacts(), now: Self.now)
        #expect(outside.reason?.code == DenialReason.toolNotInGrant)
        let elsewhere = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: ["to": .string("eve@evil.test")], facts: SessionFacts(), now: Self.now)
        #expect(elsewhere.reason?.code == DenialReason.destinationNotInGrant)
        #expect(elsewhere.destination == "evil.test")
        let missing = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: [:], facts: SessionFacts(), now: Self.now)
        #expect(missing.reason?.code == DenialReason.destinationMissing)
        let smuggled = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: ["to": .string("eve@evil.test, bob@example.com")], facts: SessionFacts(), now: Self.now)
        #expect(smuggled.reason?.code == DenialReason.destinationInvalid)
        let list = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: ["to": .array([.string("bob@example.com"), .string("eve@evil.test")])], facts: SessionFacts(), now: Self.now)
        #expect(list.reason?.code == DenialReason.destinationNotInGrant && list.destination == "example.com,evil.test")
        // The scope's tool check comes first: a tool outside the grant says so, whatever its arguments.
        #expect(policy.decide(grant: Self.grant(tools: ["files.read_file"]), tool: Self.sendEmail, arguments: [:], facts: SessionFacts(), now: Self.now).reason?.code == DenialReason.toolNotInGrant)
        let secret = Self.tool("files.read_secret", ToolLabels(sensitivity: .restricted))
        let above = policy.decide(grant: Self.grant(tools: ["files.read_secret"]), tool: secret, arguments: [:], facts: SessionFacts(), now: Self.now)
        #expect(above.reason?.code == DenialReason.sensitivityAboveGrant)
        let otherDomain = Self.tool("files.hr", ToolLabels(dataDomain: "hr"))
        #expect(policy.decide(grant: Self.grant(tools: ["files.hr"]), tool: otherDomain, arguments: [:], facts: SessionFacts(), now: Self.now).reason?.code == DenialReason.dataDomainNotInGrant)
    }

    @Test("session facts reach the policy: sending out is allowed until confidential data was read")
    func taintedSession() throws {
        let policy = try Self.policy(Self.taint)
        var facts = SessionFacts()
        let before = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: ["to": .string("Bob@Example.com")], facts: facts, now: Self.now)
        #expect(before.allowed && before.policies == ["calls"] && before.destination == "example.com")
        #expect(policy.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["path": .string("x")], facts: facts, now: Self.now).allowed)
        facts.recordAllowed(Self.readFile, now: Self.now)
        let after = policy.decide(grant: Self.grant(), tool: Self.sendEmail, arguments: ["to": .string("bob@example.com")], facts: facts, now: Self.now)
        #expect(!after.allowed && after.reason?.code == DenialReason.policyDenied && after.policies == ["no-egress-after-confidential"])
    }

    @Test("a policy that fails to evaluate denies the call; listing treats it as undecided")
    func errorsFailClosed() throws {
        let policy = try Self.policy(
            """
            @id("calls") permit (principal, action == Latch::Action::"CallTool", resource);
            @id("needs-destination") forbid (principal, action == Latch::Action::"CallTool", resource)
            when { resource.egress == "external" && context.destination like "*.evil.test" };
            """)
        let denied = policy.decide(grant: Self.grant(tools: ["files.read_file", "mail.send_email"], destinations: ["example.com"]), tool: Self.readFile, arguments: [:], facts: SessionFacts(), now: Self.now)
        #expect(denied.allowed)
        // The forbid reads context.destination, which a call of a tool without one lacks: error → deny.
        let noDestination = Self.tool("mail.send_email", ToolLabels(egress: .external))
        let errored = policy.decide(grant: Self.grant(), tool: noDestination, arguments: [:], facts: SessionFacts(), now: Self.now)
        #expect(!errored.allowed && errored.reason?.code == DenialReason.policyError && errored.errors == ["needs-destination"])
        // Listing cannot know the destination: the erroring forbid does not hide the tool.
        #expect(policy.mayList(grant: Self.grant(), tool: Self.sendEmail, facts: SessionFacts(), now: Self.now))
    }

    @Test("listing hides tools outside the scope and tools a forbid certainly denies")
    func listing() throws {
        let policy = try Self.policy(
            """
            @id("calls") permit (principal, action == Latch::Action::"CallTool", resource);
            @id("no-writes") forbid (principal, action == Latch::Action::"CallTool", resource) when { resource.side_effects == "write" };
            """)
        #expect(policy.mayList(grant: Self.grant(), tool: Self.readFile, facts: SessionFacts(), now: Self.now))
        #expect(!policy.mayList(grant: Self.grant(), tool: Self.sendEmail, facts: SessionFacts(), now: Self.now))
        #expect(!policy.mayList(grant: Self.grant(tools: ["mail.send_email"]), tool: Self.readFile, facts: SessionFacts(), now: Self.now))
        let nothing = try Self.policy("@id(\"other\") permit (principal, action == Latch::Action::\"RequestGrant\", resource);")
        #expect(!nothing.mayList(grant: Self.grant(), tool: Self.readFile, facts: SessionFacts(), now: Self.now))
    }

    @Test("arguments, time and the grant reach the context")
    func context() throws {
        let policy = try Self.policy(
            """
            @id("small-reads") permit (principal, action == Latch::Action::"CallTool", resource)
            when { context.arguments.path like "reports/*" && context.arguments.limit <= 10 && context.grant.depth == 0
                   && context.time.hour_utc >= 0 && context.intent == "summarize" && context.task.subject == principal };
            """)
        let ok = policy.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["path": .string("reports/q3"), "limit": .int(5), "note": .null], facts: SessionFacts(), now: Self.now)
        #expect(ok.allowed, "\(ok)")
        let big = policy.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["path": .string("reports/q3"), "limit": .int(50)], facts: SessionFacts(), now: Self.now)
        #expect(!big.allowed && big.reason?.code == DenialReason.policyDenied)
        // A value policies cannot see faithfully refuses the call instead of being left out.
        for hidden: LatchIdentity.JSONValue in [.double(10.123456), .array([.int(1), .null])] {
            let refused = policy.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["path": .string("reports/q3"), "limit": hidden], facts: SessionFacts(), now: Self.now)
            #expect(refused.reason?.code == DenialReason.invalidArguments, "\(hidden)")
        }
        // A null is an argument not given; a float with few decimals is a Cedar decimal.
        let decimals = try Self.policy(
            #"@id("d") permit (principal, action == Latch::Action::"CallTool", resource) when { context.arguments.ratio.lessThan(decimal("0.75")) && !(context.arguments has cc) };"#)
        #expect(decimals.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["ratio": .double(0.5), "cc": .null], facts: SessionFacts(), now: Self.now).allowed)
        #expect(!decimals.decide(grant: Self.grant(), tool: Self.readFile, arguments: ["ratio": .double(0.8)], facts: SessionFacts(), now: Self.now).allowed)
    }
}

@Suite("Destination")
struct DestinationTests {
    @Test("URLs, email addresses and hosts normalize to a lowercase host", arguments: [
        ("https://API.Example.com:8443/v1?q=1", "api.example.com"), ("Bob@Example.COM", "example.com"), ("internal.corp", "internal.corp"),
        ("http://[::1]:80/", "[::1]"), ("https://example.com", "example.com"),
    ])
    func normalize(_ input: String, _ expected: String) {
        #expect(Destination.normalize(input) == expected)
    }

    @Test("values parsers could read another way are refused", arguments: [
        "a@evil.test, b@example.com", "mailto:x@evil.test?cc=y@example.com", "https://evil.test\\@example.com", "http://user@example.com/",
        "a@b@example.com", " example.com", "example.com\n", "\"x\"@example.com", "https://example.com:80x/", "", "<a@example.com>", "ex%61mple.com",
        "https://exa mple.com/",
    ])
    func refused(_ input: String) {
        #expect(Destination.normalize(input) == nil)
    }

    @Test("a tool with several destination arguments (to, cc, bcc): every value of each is a destination the grant must allow; at least one is needed")
    func severalDestinationArguments() throws {
        let policy = try ToolCallPolicyTests.policy(ToolCallPolicyTests.taint)
        let mail = ToolCallPolicyTests.tool("mail.send_email", ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write, destinationArguments: ["to", "cc", "bcc"]))
        #expect(mail.labels.destinationArgument == "to" && mail.labels.recordedArguments == ["to", "cc", "bcc"])
        let inside = policy.decide(
            grant: ToolCallPolicyTests.grant(), tool: mail, arguments: ["to": .string("bob@example.com"), "cc": .array([.string("carol@example.com")])], facts: SessionFacts(), now: ToolCallPolicyTests.now)
        #expect(inside.allowed && inside.destination == "example.com,example.com", "\(inside)")
        let bcc = policy.decide(
            grant: ToolCallPolicyTests.grant(), tool: mail, arguments: ["to": .string("bob@example.com"), "bcc": .array([.string("audit@evil.test")])], facts: SessionFacts(), now: ToolCallPolicyTests.now)
        #expect(bcc.reason?.code == DenialReason.destinationNotInGrant && bcc.destination == "example.com,evil.test", "\(bcc)")
        let onlyCc = policy.decide(grant: ToolCallPolicyTests.grant(), tool: mail, arguments: ["cc": .string("carol@example.com")], facts: SessionFacts(), now: ToolCallPolicyTests.now)
        #expect(onlyCc.allowed, "any one of them names a destination")
        let none = policy.decide(grant: ToolCallPolicyTests.grant(), tool: mail, arguments: ["to": .array([]), "cc": .null], facts: SessionFacts(), now: ToolCallPolicyTests.now)
        #expect(none.reason?.code == DenialReason.destinationMissing && none.reason?.message.contains("\"to\", \"cc\", \"bcc\"") == true, "\(none)")
        let smuggled = policy.decide(grant: ToolCallPolicyTests.grant(), tool: mail, arguments: ["to": .string("bob@example.com"), "bcc": .int(7)], facts: SessionFacts(), now: ToolCallPolicyTests.now)
        #expect(smuggled.reason?.code == DenialReason.destinationInvalid)
    }

    @Test("a destination is allowed when named exactly or under a *. entry")
    func allowed() {
        #expect(Destination.isAllowed("mail.example.com", by: ["*.example.com"]))
        #expect(!Destination.isAllowed("example.com", by: ["*.example.com"]))
        #expect(Destination.isAllowed("example.com", by: ["example.com"]))
        #expect(!Destination.isAllowed("example.com.evil.test", by: ["example.com"]))
    }
}

@Suite("SessionFactsTable")
struct SessionFactsTableTests {
    @Test("facts are per task, kept while any grant of the task lives, and swept after")
    func lifetime() {
        let table = SessionFactsTable()
        table.withFacts(task: "t", expiresAt: 1_000, now: 0) { $0.recordDenied(now: 0) }
        // A longer-lived grant of the same task extends the facts' life.
        table.withFacts(task: "t", expiresAt: 5_000, now: 10) { $0.recordDenied(now: 10) }
        table.withFacts(task: "u", expiresAt: 1_000, now: 10) { $0.recordDenied(now: 10) }
        table.sweep(now: 2_000)
        #expect(table.snapshot(task: "t").denials == 2)
        #expect(table.snapshot(task: "u").denials == 0)
        table.sweep(now: 6_000)
        #expect(table.snapshot(task: "t").denials == 0)
    }
}
