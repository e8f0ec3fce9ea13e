import Foundation
import LatchCore
import LatchGateway
import LatchIdentity
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `latch demo`: Latch on its embedded defaults (SQLite, a fresh CA, loopback only) with the
/// built-in ``DemoToolServer``, the sample policies (``DemoPolicies``) and a scripted agent
/// (``DemoScript``), printing each step and verifying the decision records at the end.
public enum LatchDemo {
    public struct Options: Sendable {
        /// Where the store, KEK, socket and policies go and stay; nil: a temporary directory,
        /// removed at exit.
        public var dataDirectory: String?
        /// Keep running after the script (until SIGINT or SIGTERM), for a real MCP client.
        public var serve = false

        public init(dataDirectory: String? = nil, serve: Bool = false) {
            self.dataDirectory = dataDirectory
            self.serve = serve
        }
    }

    static let agentID = "spiffe://latch.local/agents/demo-agent"
    static let entryID = "latch-demo-agent"
    static let policyFile = "demo-policies.cedar"

    /// Runs the demo, writing its report through `output` (one line per call). Returns true when
    /// every step went as scripted and the records verify; throws when Latch cannot start.
    public static func run(options: Options, output: @escaping @Sendable (String) -> Void, logger: Logger) async throws -> Bool {
        let temporary = options.dataDirectory == nil
        let directory = try options.dataDirectory ?? Self.makeTemporaryDirectory()
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
        // sockaddr_un holds 108 bytes with the terminating NUL.
        let socket = Self.absolute(directory) + "/public/workload.sock"
        guard socket.utf8.count < 108 else {
            throw LatchError(
                .configuration, "the Workload API socket \(socket) would be longer than a unix socket path may be: use a shorter --data-dir")
        }
        output("latch demo: Latch with a built-in MCP tool server and a scripted agent (✔ allowed or done, ✘ refused)")
        output("  data in \(directory) (SQLite)" + (temporary ? ", removed at exit; keep it with --data-dir DIR" : ", kept"))

        try StoreAccess.createDirectory(directory, mode: 0o711)
        let policies = directory + "/" + Self.policyFile
        try Data(DemoPolicies.text.utf8).write(to: URL(fileURLWithPath: policies))
        let entry = try Self.agentEntry()
        try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { store in
            // A kept directory already has the entry from an earlier run: replace it (the uid may differ).
            _ = try await store.deleteEntry(id: entry.id)
            try await store.createEntry(entry)
        }
        output(
            "  ✔ \("register".padded(to: 11)) \(entry.spiffeID) for \(entry.selectors.map(\.description).joined(separator: " ")), attribute team=interop (entry \(entry.id))"
        )

        let tools = DemoToolServer()
        var configuration = ServerConfiguration.defaults
        configuration.dataDirectory = directory
        configuration.listen = "127.0.0.1:0"
        configuration.policies = policies
        configuration.upstreams = [tools.configuration]
        let server = configuration
        let (ready, readyContinuation) = AsyncStream<LatchServer.Endpoints>.makeStream()
        let (stop, stopContinuation) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { readyContinuation.finish() }
                // No environment: the demo's KEK is its own file in the data directory, whatever LATCH_KEK says.
                try await LatchServer.run(
                    configuration: server, environment: [:], inProcessUpstreams: [tools], stop: stop, logger: logger,
                    onReady: { readyContinuation.yield($0) })
            }
            var endpoints: LatchServer.Endpoints?
            for await first in ready {
                endpoints = first
                break
            }
            guard let endpoints else {
                try await group.waitForAll()
                throw LatchError(.io, "Latch stopped before it was ready")
            }
            let issuer = "http://" + endpoints.http
            let served = (try? await tools.listTools())?.compactMap { $0["name"]?.stringValue } ?? []
            output("  ✔ \("start".padded(to: 11)) Latch at \(issuer): token endpoint /token, MCP gateway /mcp")
            output("    \("".padded(to: 11)) Workload API unix://\(Self.absolute(endpoints.workloadAPISocket))")
            output("    \("".padded(to: 11)) tool server \"\(tools.name)\" (in process): \(served.joined(separator: " "))")
            output("    \("".padded(to: 11)) policies \(Self.absolute(policies))")

            let agent = DemoAgent(spiffeID: Self.agentID, issuer: issuer, socket: endpoints.workloadAPISocket)
            let script = DemoScript(agent: agent, output: output)
            let outcome = await script.run()
            var problems = outcome.differences
            do {
                problems += try await Self.verifyRecords(outcome, directory: directory, output: output, logger: logger)
            } catch {
                problems.append("the decision records could not be read: \(error)")
            }
            if problems.isEmpty {
                let forwarded = outcome.calls.filter(\.call.expectation.allowed).count
                output("records verified: \(outcome.calls.count) decisions (\(forwarded) forwarded, each with its outcome)")
            } else {
                output("the demo did not go as scripted (\(problems.count) difference\(problems.count == 1 ? "" : "s")):")
                for problem in problems { output("  - \(problem)") }
            }

            if options.serve {
                output("")
                for line in Self.serveInstructions(
                    issuer: issuer, socket: Self.absolute(endpoints.workloadAPISocket), directory: Self.absolute(directory))
                {
                    output(line)
                }
            } else {
                stopContinuation.finish()
            }
            try await group.waitForAll()
            if options.serve { output("Latch stopped" + (temporary ? "; its data directory is removed." : ".")) }
            return problems.isEmpty
        }
    }

    /// Reads the task's records back from the store (a second connection beside the server's)
    /// and checks them against the calls.
    static func verifyRecords(
        _ outcome: DemoScript.Outcome, directory: String, output: @Sendable (String) -> Void, logger: Logger
    ) async throws
        -> [String]
    {
        guard let task = outcome.taskID else { return [] }
        let records = try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { store in
            try await store.decisionRecords(taskID: task, limit: 1000)
        }
        output("decision records of task \(task), read back from the store:")
        for line in DemoScript.recordLines(records: records, calls: outcome.calls) { output("  " + line) }
        return DemoScript.verify(records: records, calls: outcome.calls, agent: Self.agentID)
    }

    /// What `--serve` prints after the script: where to connect and how to get a grant.
    static func serveInstructions(issuer: String, socket: String, directory: String) -> [String] {
        let latch = Self.executablePath()
        let scope = "tool:demo.read_file tool:demo.list_files domain:docs sensitivity:internal"
        return [
            "Latch keeps running until Ctrl-C (SIGINT) or SIGTERM.",
            "  MCP endpoint   \(issuer)/mcp  (MCP 2025-11-25 or 2026-07-28; a task grant and a DPoP proof on every request)",
            "  metadata       \(issuer)/.well-known/oauth-protected-resource/mcp, \(issuer)/.well-known/oauth-authorization-server",
            "  Workload API   unix://\(socket)",
            "Connect an MCP client from another shell:",
            "  1. register it (an identity for your user, with the attribute the sample policies ask for):",
            "     \(latch) entry create --data-dir \(directory) --spiffe-id spiffe://latch.local/agents/me --selector unix:uid:\(getuid()) --attribute team=interop",
            "  2. fetch a JWT-SVID for the issuer (SPIFFE_ENDPOINT_SOCKET=unix://\(socket) for SPIFFE libraries):",
            "     \(latch) api fetch-jwt --socket \(socket) --audience \(issuer) --spiffe-id spiffe://latch.local/agents/me",
            "  3. trade it at \(issuer)/token (RFC 8693 token exchange with a DPoP proof; see the README) for a grant, scope e.g.",
            "     \"\(scope)\"; or let the reference client do 2 and 3 and call tools (the venv of .ci/run):",
            "     printf '[{\"op\": \"list_tools\"}, {\"op\": \"call\", \"tool\": \"demo.read_file\", \"arguments\": {\"path\": \"public/readme.txt\"}}]' > steps.json",
            "     .venv/bin/python Tests/Interop/mcp_agent.py --mcp \(issuer)/mcp --protocol 2026-07-28 --socket \(socket) --http \(issuer) \\",
            "         --agent spiffe://latch.local/agents/me --scope '\(scope)' --script steps.json",
            "  4. see every decision: \(latch) audit list --data-dir \(directory)",
        ]
    }

    /// The registration of the demo agent: this user's processes, team `interop`.
    static func agentEntry() throws -> RegistrationEntry {
        RegistrationEntry(
            id: Self.entryID, spiffeID: try SPIFFEID(parsing: Self.agentID), selectors: [Selector(type: "unix", value: "uid:\(getuid())")],
            x509SVIDTTL: 3600, jwtSVIDTTL: 300, attributes: ["team": .string("interop")], createdAt: SystemWallClock().now().milliseconds)
    }

    /// A new directory under the system's temporary directory, mode 0700.
    static func makeTemporaryDirectory() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/latch-demo-XXXXXX").utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let made else { throw LatchError(.io, "cannot create a temporary directory (errno \(errno))") }
        return made
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// This program's path, for commands to copy (`latch` if it cannot be told).
    static func executablePath() -> String {
        let resolved = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return resolved == "/proc/self/exe" ? "latch" : resolved
    }
}
