public import LatchGateway
import LatchIdentity

/// Checks every ``MCPUpstream`` transport must pass, against the reference server
/// (`Tests/Interop/mcp_upstream.py`) behind it.
public enum MCPUpstreamChecks {
    /// Sends `count` `echo` calls at once on one upstream; returns each call's answer text by call.
    public static func concurrentEchoes(_ upstream: any MCPUpstream, count: Int = 50) async throws -> [Int: String?] {
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<count {
                group.addTask {
                    let result = try await upstream.callTool(name: "echo", arguments: .object(["text": .string("message \(index)")]), meta: nil)
                    return (index, result["content"]?.arrayValue?.first?["text"]?.stringValue)
                }
            }
            var answers: [Int: String?] = [:]
            for try await (index, text) in group { answers[index] = text }
            return answers
        }
    }
}
