/// Pretty-prints Cedar policies in the style of Cedar's own formatter (80 columns, 2-space
/// indent, `permit (` scope layout, `when { … }` clauses broken as `when\n{\n  …\n}`).
///
/// Output is deterministic and idempotent, and reparses to an equal AST. Formatting text keeps
/// its `//` comments: comments before or between policies and clauses stay where they are,
/// trailing comments stay at the end of their line, and comments inside a scope or a condition
/// body move to their own line just before that policy or clause.
///
/// Differences from Cedar's formatter, which reprints its concrete syntax tree: this one prints
/// the AST, so parentheses are the minimal set the AST needs (Cedar keeps redundant ones),
/// string escapes are normalized (`\'` prints as `'`, `\u{2a}` as `*`), and `a has b && a.b has c`
/// prints as `a has b.c` (the same AST). On the integration corpus the output is byte-identical to
/// Cedar's for about two thirds of the files; the rest differ only in those ways.
public enum CedarFormatter {
    /// Line width the layout aims for.
    public static let lineWidth = 80

    /// Formats policy text, keeping its comments.
    public static func format(_ text: String) throws(CedarError) -> String {
        var parser = try PolicyParser(text: text)
        let policies = try parser.parsePolicies()
        return self.layout(policies, spans: parser.spans, comments: parser.comments)
    }

    /// Formats one policy (annotations, scope, conditions), ending with `;` and no newline.
    public static func format(_ policy: Policy) -> String {
        self.policyDoc(policy, PolicyComments()).render(width: self.lineWidth)
    }

    /// Formats an expression, e.g. for error messages.
    public static func format(_ expr: Expr) -> String {
        self.doc(expr, .ifThenElse).render(width: self.lineWidth)
    }

    /// Formats a list of policies, separated by blank lines, ending with a newline.
    public static func format(_ policies: [Policy]) -> String {
        self.layout(policies, spans: [], comments: [])
    }

    // MARK: Layout

    /// Comments attached to the parts of one policy.
    struct PolicyComments {
        var leading: [Comment] = []
        /// After the scope's `)` on the same line.
        var afterScope: [String] = []
        /// Own-line comments before each clause, and trailing comments after each clause.
        var beforeClause: [Int: [String]] = [:]
        var afterClause: [Int: [String]] = [:]
        /// After the final `;`.
        var trailing: [String] = []
        /// Annotation keys written as `@key` in the source; nil means "bare when the value is empty".
        var bareAnnotations: Set<String>? = nil
    }

    static func layout(_ policies: [Policy], spans: [PolicyParser.PolicySpan], comments: [Comment]) -> String {
        var attached = Array(repeating: PolicyComments(), count: policies.count)
        var header: [Comment] = []
        var footer: [Comment] = []
        if spans.count == policies.count {
            self.attach(comments, spans: spans, to: &attached, header: &header, footer: &footer)
            for (i, span) in spans.enumerated() { attached[i].bareAnnotations = span.bareAnnotations }
        } else {
            header = comments
        }
        var blocks: [String] = []
        for (i, policy) in policies.enumerated() {
            var text = ""
            let block = (i == 0 ? header : []) + attached[i].leading
            if let last = block.last {
                text += self.commentBlock(block) + "\n"
                // Keep one empty line between the comments and the policy if the source had one.
                if i < spans.count, spans[i].startLine > last.line + 1 { text += "\n" }
            }
            attached[i].leading = []
            text += self.policyDoc(policy, attached[i]).render(width: self.lineWidth)
            blocks.append(text)
        }
        var out = blocks.joined(separator: "\n\n")
        if policies.isEmpty, !header.isEmpty { out = self.commentBlock(header) }
        if let first = footer.first {
            if !out.isEmpty { out += first.blankLineBefore ? "\n\n" : "\n" }
            out += self.commentBlock(footer)
        }
        return out.isEmpty ? "" : out + "\n"
    }

    /// Own-line comments, keeping single empty lines that separated them in the source.
    private static func commentBlock(_ comments: [Comment]) -> String {
        var lines: [String] = []
        for (i, comment) in comments.enumerated() {
            if i > 0, comment.blankLineBefore { lines.append("") }
            lines.append(comment.text)
        }
        return lines.joined(separator: "\n")
    }

    /// Assigns each comment to the nearest policy part (see the type's documentation).
    private static func attach(
        _ comments: [Comment], spans: [PolicyParser.PolicySpan], to attached: inout [PolicyComments],
        header: inout [Comment], footer: inout [Comment]
    ) {
        var k = 0
        for comment in comments {
            while k < spans.count, spans[k].end <= comment.start { k += 1 }
            let text = comment.text
            guard k < spans.count else {
                if !comment.ownLine, let last = attached.indices.last {
                    attached[last].trailing.append(text)
                } else {
                    footer.append(comment)
                }
                continue
            }
            let span = spans[k]
            if comment.start < span.start {
                if !comment.ownLine, k > 0 {
                    attached[k - 1].trailing.append(text)
                } else if k == 0 {
                    header.append(comment)
                } else {
                    attached[k].leading.append(comment)
                }
                continue
            }
            if comment.start < span.scopeEnd {
                attached[k].leading.append(comment)
                continue
            }
            // Which clause gap or body the comment falls in.
            var placed = false
            for (j, clause) in span.clauses.enumerated() where comment.start < clause.end {
                if comment.start < clause.start, !comment.ownLine {
                    if j == 0 { attached[k].afterScope.append(text) } else { attached[k].afterClause[j - 1, default: []].append(text) }
                } else {
                    attached[k].beforeClause[j, default: []].append(text)
                }
                placed = true
                break
            }
            if !placed { attached[k].trailing.append(text) }
        }
    }

    static func policyDoc(_ policy: Policy, _ comments: PolicyComments) -> Doc {
        var parts: [Doc] = []
        for comment in comments.leading { parts += [.text(comment.text), .hardline] }
        for annotation in policy.annotations {
            let bare = annotation.value.isEmpty && (comments.bareAnnotations?.contains(annotation.key) ?? true)
            let value = bare ? "" : "(\(CedarText.quoted(annotation.value)))"
            parts += [.text("@\(annotation.key)\(value)"), .hardline]
        }
        let principal = self.scope("principal", policy.principal)
        let action = self.action(policy.action)
        let resource = self.scope("resource", policy.resource)
        let open = Doc.text("\(policy.effect.rawValue) (")
        let scope: Doc
        if policy.principal == .any, policy.action == .any, policy.resource == .any {
            scope = open + .text("principal, action, resource)")
        } else {
            // Cedar's formatter puts a constrained scope one part per line.
            scope =
                open + .nest(2, .hardline + principal + .text(",") + .hardline + action + .text(",") + .hardline + resource)
                + .hardline + .text(")")
        }
        parts.append(scope)
        var pendingTrailing = comments.afterScope
        for (j, condition) in policy.conditions.enumerated() {
            if !pendingTrailing.isEmpty { parts.append(.text(" " + pendingTrailing.joined(separator: " "))) }
            parts.append(.hardline)
            for line in comments.beforeClause[j] ?? [] { parts += [.text(line), .hardline] }
            let keyword = condition.kind.rawValue
            let body = self.doc(condition.body, .ifThenElse)
            var clause = Doc.text(keyword) + .line + .text("{") + .nest(2, .line + body) + .line + .text("}")
            if j == policy.conditions.count - 1 { clause = clause + .text(";") }
            parts.append(.group(clause))
            pendingTrailing = comments.afterClause[j] ?? []
        }
        if policy.conditions.isEmpty { parts.append(.text(";")) }
        let trailing = pendingTrailing + comments.trailing
        if !trailing.isEmpty { parts.append(.text(" " + trailing.joined(separator: " "))) }
        return .concat(parts)
    }

    private static func reference(_ reference: EntityReference) -> String {
        switch reference {
        case .uid(let uid): uid.description
        case .slot(let slot): slot.rawValue
        }
    }

    private static func scope(_ name: String, _ constraint: ScopeConstraint) -> Doc {
        switch constraint {
        case .any: .text(name)
        case .eq(let r): .group(.text("\(name) ==") + .nest(2, .line + .text(self.reference(r))))
        case .in(let r): .group(.text("\(name) in") + .nest(2, .line + .text(self.reference(r))))
        case .is(let t): .text("\(name) is \(t.name)")
        case .isIn(let t, let r): .group(.text("\(name) is \(t.name) in") + .nest(2, .line + .text(self.reference(r))))
        }
    }

    private static func action(_ constraint: ActionConstraint) -> Doc {
        switch constraint {
        case .any: .text("action")
        case .eq(let uid): .group(.text("action ==") + .nest(2, .line + .text(uid.description)))
        case .in(let uid): .group(.text("action in") + .nest(2, .line + .text(uid.description)))
        case .inSet(let uids): .group(.text("action in") + .nest(2, .line + self.set(uids.map { .text($0.description) })))
        }
    }
}
