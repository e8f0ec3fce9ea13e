public import LatchIdentity

/// Looks for the marks of tool poisoning in a tool definition an agent would read: instruction
/// markers (`<IMPORTANT>`, `<SYSTEM>`, "ignore previous instructions"), paths to credentials and
/// agent configuration (`~/.ssh`, `id_rsa`, `mcp.json`, `~/.aws`), and phrases asking the agent to
/// hide what it does ("do not mention", "don't tell the user").
///
/// Trust on first use accepts a definition nobody has reviewed; one that carries these marks is
/// not trusted but held for review (``DenialReason/toolDefinitionSuspicious``). Every string in
/// the definition is read (the description, and the titles and descriptions inside the input
/// schema, where poisoned instructions also hide), case-insensitively.
///
/// - Important: a tripwire for the obvious, not a detector: an upstream that words its
///   instructions otherwise passes. Pinning (a changed definition is disabled until accepted)
///   and per-call policy stay the defences.
public enum ToolDefinitionScreen {
    /// What was found, by kind.
    public struct Finding: Hashable, Sendable, CustomStringConvertible {
        public enum Kind: String, Hashable, Sendable, CaseIterable {
            case instructionMarker = "instruction_marker"
            case sensitivePath = "sensitive_path"
            case concealment
        }

        public var kind: Kind
        /// The pattern that matched (one of the lists below, never the definition's own text).
        public var pattern: String

        public var description: String { "\(self.kind.rawValue): \(self.pattern)" }
    }

    static let patterns: [(Finding.Kind, [String])] = [
        (
            .instructionMarker,
            [
                "<important>", "</important>", "<system>", "<instructions>", "<instruction>", "[inst]", "<|im_start|>",
                "ignore previous instructions", "ignore all previous instructions", "ignore your previous instructions",
                "before using this tool", "before you use this tool",
            ]
        ),
        (
            .sensitivePath,
            [
                "~/.ssh", ".ssh/", "id_rsa", "id_ed25519", "mcp.json", "~/.cursor", "~/.aws", ".aws/credentials", "/etc/passwd", "/etc/shadow",
                ".netrc",
            ]
        ),
        (
            .concealment,
            [
                "do not mention", "don't mention", "do not tell the user", "don't tell the user", "without telling the user",
                "without informing the user",
                "do not reveal", "don't reveal", "not visible to the user", "the user must not know", "keep this secret", "hide this from",
            ]
        ),
    ]

    /// The findings in `definition`, at most one per pattern, in the order of the lists above.
    public static func findings(in definition: JSONValue) -> [Finding] {
        var text = ""
        Self.collect(definition, into: &text, depth: 0)
        let lowered = text.lowercased()
        var found: [Finding] = []
        for (kind, patterns) in Self.patterns {
            for pattern in patterns where lowered.contains(pattern) { found.append(Finding(kind: kind, pattern: pattern)) }
        }
        return found
    }

    /// Every string in the definition (values only, not keys), separated by newlines; bounded
    /// depth (definitions are at most 1 MiB, see ``ToolPin/maximumDefinitionBytes``).
    private static func collect(_ value: JSONValue, into text: inout String, depth: Int) {
        guard depth < 32 else { return }
        switch value {
        case .string(let string):
            text += string
            text += "\n"
        case .array(let items): for item in items { Self.collect(item, into: &text, depth: depth + 1) }
        case .object(let members): for key in members.keys.sorted() { Self.collect(members[key] ?? .null, into: &text, depth: depth + 1) }
        default: break
        }
    }
}
