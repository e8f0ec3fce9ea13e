import ArgumentParser
import Foundation
import LatchGateway

#if canImport(Glibc)
import Glibc
#endif

/// `latch tool accept UPSTREAM.TOOL [--digest HEX]`
struct ToolAcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a tool's pending definition: the gateway serves the tool again from its next refresh.",
        discussion: """
            With --digest, only if the pending definition is exactly that one (the full SHA-256 that `latch tool show` \
            prints), so what is accepted is what was reviewed. The acceptance records the time and this user's name. \
            Exit 1 if nothing is pending or the digest differs.
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The tool as agents name it: UPSTREAM.TOOL.")
    var tool: String

    @Option(help: "The SHA-256 (64 hex digits) of the definition reviewed; refused if the pending one differs.")
    var digest: String?

    func run() async throws {
        let name = try ToolCommand.name(self.tool)
        let shown = AuditOutput.printable(name.upstream + "." + name.tool)
        let expected = self.digest?.lowercased()
        if let expected, !ToolPin.isDigest(expected) { throw ValidationError("--digest must be the full SHA-256: 64 hex digits") }
        let who = Self.userName()
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        // One store session (the CLI sets up logging once per process): read what is pending,
        // then accept that digest, or the one named, which the store compares again atomically.
        let (digest, outcome) = try await self.server.withStore { store -> (String?, ToolPinAcceptance) in
            let pins = try await store.toolPins(upstream: name.upstream).filter { $0.tool == name.tool }
            guard let pending = pins.first(where: { $0.status == .pending }) else { return (nil, .nothingPending) }
            let digest = expected ?? pending.digest
            return (digest, try await store.acceptToolPin(upstream: name.upstream, tool: name.tool, digest: digest, acceptedAt: now, acceptedBy: who))
        }
        switch outcome {
        case .accepted(let pin):
            print("accepted \(shown) (digest \(pin.digest)); a running server serves it from its next refresh")
        case .digestMismatch(let pending):
            PolicyCommand.writeError(
                "error: the pending definition of \(shown) has digest \(pending), not \(digest ?? "-"); nothing was accepted (review it with latch tool show \(shown))"
            )
            throw ExitCode(1)
        case .nothingPending:
            PolicyCommand.writeError("error: \(shown) has no pending definition to accept (see latch tool list)")
            throw ExitCode(1)
        }
    }

    /// This process's user name (`getpwuid`), or `uid:N` when it has none.
    static func userName() -> String {
        let uid = geteuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name, case let text = String(cString: name), ToolPin.isPinnableName(text) {
            return text
        }
        return "uid:\(uid)"
    }
}
