import CedarPolicy
import Foundation

/// A failure that stops a command: `message` is already formatted for people (often
/// `file:line:col: message` with the source line and a caret).
struct CommandFailure: Error {
    let message: String
}

/// Loading the files the `policy` commands read. Every failure names the file it came from.
extension PolicyCommand {
    /// The whole file as UTF-8 text, or `-` for standard input.
    static func readText(_ path: String) throws(CommandFailure) -> String {
        do {
            if path == "-" {
                return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure(message: "\(path): not UTF-8 text")
            }
            return text
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(message: "\(path): cannot read: \(Self.describe(error))")
        }
    }

    /// Whether the file holds JSON (by extension) rather than Cedar syntax.
    static func isJSON(_ path: String) -> Bool {
        path.lowercased().hasSuffix(".json")
    }

    /// Parses a policy set: Cedar text, or Cedar's policy JSON format for `.json` files.
    static func parsePolicySet(_ text: String, path: String) throws(CedarError) -> PolicySet {
        if self.isJSON(path) {
            return try PolicySet(json: JSONValue(parsing: text))
        }
        return try PolicySet(parsing: text)
    }

    /// Reads and parses a policy set file.
    static func loadPolicySet(_ path: String) throws(CommandFailure) -> PolicySet {
        let text = try self.readText(path)
        do {
            return try self.parsePolicySet(text, path: path)
        } catch {
            throw CommandFailure(message: self.render(error, source: text, file: path))
        }
    }

    /// Reads and parses a schema: Cedar schema syntax, or the JSON schema format for `.json` files.
    static func loadSchema(_ path: String) throws(CommandFailure) -> Schema {
        let text = try self.readText(path)
        do {
            if self.isJSON(path) { return try Schema(parsingJSON: text) }
            return try Schema(parsingCedar: text)
        } catch {
            throw CommandFailure(message: self.render(error, source: text, file: path))
        }
    }

    /// Reads and parses an entities JSON file, schema-directed when a schema is given.
    static func loadEntities(_ path: String, schema: Schema?) throws(CommandFailure) -> Entities {
        let text = try self.readText(path)
        do {
            return try Entities(json: JSONValue(parsing: text), schema: schema)
        } catch {
            throw CommandFailure(message: self.render(error, source: text, file: path))
        }
    }

    /// `file:line:col: message` with the source line and a caret, or `file: message` when the
    /// error has no position.
    static func render(_ error: CedarError, source: String, file: String) -> String {
        guard let location = error.location, location.line > 0 else { return "\(file): \(error.message)" }
        return error.rendered(source: source, file: file)
    }

    /// A short description of a Foundation or system error.
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, let message = underlying.userInfo[NSLocalizedDescriptionKey] as? String {
            return message
        }
        return ns.localizedDescription
    }
}
