import ArgumentParser
import CedarPolicy
import Foundation

/// `latch policy format FILE… [--in-place | --check]`: print Cedar policy text in canonical layout.
struct FormatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "format",
        abstract: "Format Cedar policy files.",
        discussion: """
            Prints each FILE formatted, in order. With --in-place, rewrites the files that change; \
            with --check, prints the files that are not formatted and exits 1 if there are any. \
            A file that does not parse is reported as file:line:col: message and makes the exit code 1.
            """
    )

    @Argument(help: "Cedar policy files (- for standard input).")
    var files: [String]

    @Flag(help: "Rewrite each file in place instead of printing it.")
    var inPlace = false

    @Flag(help: "Print nothing but the names of files that are not formatted; exit 1 if any.")
    var check = false

    func validate() throws {
        if self.inPlace && self.check { throw ValidationError("--in-place and --check cannot be used together.") }
        if self.inPlace && self.files.contains("-") { throw ValidationError("--in-place cannot rewrite standard input.") }
    }

    func run() throws {
        var failed = false
        var printed = 0
        for file in self.files {
            let text: String
            let formatted: String
            do throws(CommandFailure) {
                text = try PolicyCommand.readText(file)
                do {
                    formatted = try CedarFormatter.format(text)
                } catch {
                    throw CommandFailure(message: PolicyCommand.render(error, source: text, file: file))
                }
            } catch {
                PolicyCommand.writeError(error.message)
                failed = true
                continue
            }
            if self.check {
                if formatted != text {
                    PolicyCommand.writeOut("\(file): not formatted\n")
                    failed = true
                }
            } else if self.inPlace {
                guard formatted != text else { continue }
                do {
                    try Data(formatted.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
                } catch {
                    PolicyCommand.writeError("\(file): cannot write: \(PolicyCommand.describe(error))")
                    failed = true
                }
            } else {
                if printed > 0 { PolicyCommand.writeOut("\n") }
                PolicyCommand.writeOut(formatted.hasSuffix("\n") || formatted.isEmpty ? formatted : formatted + "\n")
                printed += 1
            }
        }
        if failed { throw ExitCode(1) }
    }
}
