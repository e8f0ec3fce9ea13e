import ArgumentParser
import CedarPolicy

/// `latch policy check FILE… [--schema S] [--json]`: parse policy files and, with a schema,
/// validate them (strict mode). Exits 1 if any file has an error.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse Cedar policy files and, with --schema, validate them.",
        discussion: """
            Each FILE is Cedar policy text, or Cedar's policy JSON format when it ends in .json. \
            Errors are printed as file:line:col: message, with the offending line and a caret. \
            Exits 0 when every file is fine, 1 otherwise.
            """
    )

    @Argument(help: "Policy files (.cedar text, or .json policy sets).")
    var files: [String]

    @Option(help: "Validate against this schema (.cedarschema text, or .json).")
    var schema: String?

    @Flag(help: "Print the result as JSON on standard output.")
    var json = false

    /// One problem found in a file.
    struct Diagnostic {
        var file: String
        var line: Int?
        var column: Int?
        var message: String
        var policyID: String?
        var isWarning = false
        /// The text shown to people: `file:line:col: message`, source line and caret.
        var rendered: String
    }

    /// What checking one file found.
    struct FileReport {
        var file: String
        var policies = 0
        var templates = 0
        var links = 0
        var diagnostics: [Diagnostic] = []
        var ok: Bool { !self.diagnostics.contains { !$0.isWarning } }
    }

    func run() throws {
        var schema: Schema?
        var schemaReport: FileReport?
        if let path = self.schema {
            var report = FileReport(file: path)
            do {
                let text = try PolicyCommand.readText(path)
                do {
                    schema = PolicyCommand.isJSON(path) ? try Schema(parsingJSON: text) : try Schema(parsingCedar: text)
                } catch {
                    report.diagnostics.append(Self.diagnostic(error, source: text, file: path))
                }
            } catch {
                report.diagnostics.append(Diagnostic(file: path, message: error.message, rendered: error.message))
            }
            schemaReport = report
        }

        var reports: [FileReport] = []
        if schemaReport?.ok ?? true {
            let validator = schema.map { Validator(schema: $0) }
            for file in self.files { reports.append(Self.check(file, validator: validator)) }
        }

        let ok = (schemaReport?.ok ?? true) && reports.allSatisfy(\.ok)
        if self.json {
            PolicyCommand.writeOut(Self.renderJSON(ok: ok, schema: schemaReport, files: reports))
        } else {
            for report in [schemaReport].compactMap({ $0 }) + reports {
                for diagnostic in report.diagnostics { PolicyCommand.writeError(diagnostic.rendered) }
            }
            for report in reports where report.ok {
                var summary = "\(report.file): OK (\(Self.count(report.policies, "policy", "policies"))"
                if report.templates > 0 { summary += ", \(Self.count(report.templates, "template", "templates"))" }
                if report.links > 0 { summary += ", \(Self.count(report.links, "link", "links"))" }
                summary += self.schema.map { ", valid against \($0))" } ?? ")"
                PolicyCommand.writeOut(summary + "\n")
            }
        }
        if !ok { throw ExitCode(1) }
    }

    /// Parses one file and validates it when a validator is given.
    static func check(_ file: String, validator: Validator?) -> FileReport {
        var report = FileReport(file: file)
        let text: String
        do {
            text = try PolicyCommand.readText(file)
        } catch {
            report.diagnostics.append(Diagnostic(file: file, message: error.message, rendered: error.message))
            return report
        }
        let policies: PolicySet
        do {
            policies = try PolicyCommand.parsePolicySet(text, path: file)
        } catch {
            report.diagnostics.append(self.diagnostic(error, source: text, file: file))
            return report
        }
        report.policies = policies.staticPolicies.count
        report.templates = policies.templates.count
        report.links = policies.links.count
        guard let validator else { return report }

        let result = validator.validate(policies)
        let starts = Dictionary((policies.staticPolicies + policies.templates).map { ($0.id, $0.location) }, uniquingKeysWith: { a, _ in a })
        for (found, isWarning) in result.errors.map({ ($0, false) }) + result.warnings.map({ ($0, true) }) {
            var location = found.location
            if location == nil || location?.line == 0, let start = starts[found.policyID], start.line > 0 { location = start }
            let message = (isWarning ? "warning: " : "") + "\(found.message) (policy `\(found.policyID)`)"
            var diagnostic = self.diagnostic(
                CedarError(.validation, message, at: location), source: PolicyCommand.isJSON(file) ? nil : text, file: file)
            diagnostic.policyID = found.policyID
            diagnostic.isWarning = isWarning
            diagnostic.message = found.message
            report.diagnostics.append(diagnostic)
        }
        return report
    }

    /// A diagnostic for `error`, rendered with a caret when it has a position in `source`.
    static func diagnostic(_ error: CedarError, source: String?, file: String) -> Diagnostic {
        let position = error.location.flatMap { $0.line > 0 ? $0 : nil }
        let rendered: String
        if position != nil, let source {
            rendered = PolicyCommand.render(error, source: source, file: file)
        } else if let position {
            rendered = "\(file):\(position.line):\(position.column): \(error.message)"
        } else {
            rendered = "\(file): \(error.message)"
        }
        return Diagnostic(file: file, line: position?.line, column: position?.column, message: error.message, rendered: rendered)
    }

    static func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }

    /// `{"ok":…,"schema":{…},"files":[{"file":…,"ok":…,"policies":…,"errors":[…],"warnings":[…]}]}`
    static func renderJSON(ok: Bool, schema: FileReport?, files: [FileReport]) -> String {
        func diagnostics(_ list: [Diagnostic]) -> String {
            let items = list.map { d in
                var fields = ["\"message\":\(PolicyCommand.jsonString(d.message))"]
                if let line = d.line { fields.append("\"line\":\(line)") }
                if let column = d.column { fields.append("\"column\":\(column)") }
                if let id = d.policyID { fields.append("\"policy\":\(PolicyCommand.jsonString(id))") }
                return "{" + fields.joined(separator: ",") + "}"
            }
            return "[" + items.joined(separator: ",") + "]"
        }
        func report(_ r: FileReport, counts: Bool) -> String {
            var fields = ["\"file\":\(PolicyCommand.jsonString(r.file))", "\"ok\":\(r.ok)"]
            if counts { fields += ["\"policies\":\(r.policies)", "\"templates\":\(r.templates)", "\"links\":\(r.links)"] }
            fields.append("\"errors\":" + diagnostics(r.diagnostics.filter { !$0.isWarning }))
            fields.append("\"warnings\":" + diagnostics(r.diagnostics.filter(\.isWarning)))
            return "{" + fields.joined(separator: ",") + "}"
        }
        var fields = ["\"ok\":\(ok)"]
        if let schema { fields.append("\"schema\":" + report(schema, counts: false)) }
        fields.append("\"files\":[" + files.map { report($0, counts: true) }.joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }
}
