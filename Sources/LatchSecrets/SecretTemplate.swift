public import LatchCore

/// A configured value with secret references, such as `Bearer ${secret:crm_token}` or a whole
/// `${secret:api_key}`: parsed once when the configuration loads, rendered for each upstream call
/// with the current values, so agents never hold the secret.
///
/// Syntax: text is copied as is, `${secret:NAME}` is replaced by the value of secret NAME (a
/// ``SecretName``), and `$$` is a literal `$`. Every other use of `$` is an error when parsing
/// (`$x`, a `$` at the end, `${env:X}`, an unclosed `${`), so a typo fails at load time rather
/// than sending the wrong credential.
///
/// Invariants (checked by ``init(parsing:)``): at most ``maximumSourceBytes`` bytes and
/// ``maximumReferences`` references.
///
/// - Important: rendering fails if any referenced secret is missing or does not open: the caller
///   denies the call (fail closed) instead of forwarding it without its credential.
public struct SecretTemplate: Hashable, Sendable, CustomStringConvertible {
    /// The longest template accepted, in UTF-8 bytes.
    public static let maximumSourceBytes = 8_192
    /// The most `${secret:…}` references one template may hold.
    public static let maximumReferences = 32

    enum Part: Hashable, Sendable {
        case text(String)
        case secret(SecretName)
    }

    let parts: [Part]
    /// The template as written (it holds names, never values).
    public let source: String

    public init(parsing text: some StringProtocol) throws(LatchError) {
        let source = String(text)
        let bytes = Array(source.utf8)
        guard bytes.count <= Self.maximumSourceBytes else {
            throw LatchError(.invalidInput, "template: longer than \(Self.maximumSourceBytes) bytes")
        }
        let opening = Array("${secret:".utf8)
        var parts: [Part] = []
        var literal: [UInt8] = []
        var references = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$") else {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "$") {
                literal.append(byte)
                index += 2
                continue
            }
            guard bytes[index...].starts(with: opening) else {
                let what =
                    index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "{")
                    ? "only ${secret:NAME} references are known" : "write $$ for a literal $"
                throw LatchError(.invalidInput, "template: unexpected $ at byte \(index): \(what)")
            }
            let nameStart = index + opening.count
            guard let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: "}")) else {
                throw LatchError(.invalidInput, "template: ${secret: at byte \(index) is not closed with }")
            }
            let name: SecretName
            do {
                name = try SecretName(parsing: String(decoding: bytes[nameStart..<close], as: UTF8.self))
            } catch {
                throw LatchError(.invalidInput, "template: the reference at byte \(index): \(error.message)")
            }
            references += 1
            guard references <= Self.maximumReferences else {
                throw LatchError(.invalidInput, "template: more than \(Self.maximumReferences) secret references")
            }
            if !literal.isEmpty {
                parts.append(.text(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
            parts.append(.secret(name))
            index = close + 1
        }
        // `$` is ASCII, so every cut falls between whole characters and each run is valid UTF-8.
        if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
        self.parts = parts
        self.source = source
    }

    /// The secrets the template refers to, each once, in order of first reference (so loading a
    /// configuration can check that they exist).
    public var secretNames: [SecretName] {
        var seen = Set<SecretName>()
        var names: [SecretName] = []
        for case .secret(let name) in self.parts where seen.insert(name).inserted {
            names.append(name)
        }
        return names
    }

    /// The template with every reference replaced by the value in `values`.
    ///
    /// Throws `notFound` naming the first missing secret, and `invalidInput` for a value that
    /// is not UTF-8 text; neither error carries a value.
    public func render(_ values: [SecretName: Redacted<[UInt8]>]) throws(LatchError) -> Redacted<String> {
        var out = ""
        for part in self.parts {
            switch part {
            case .text(let text):
                out += text
            case .secret(let name):
                guard let value = values[name] else {
                    throw LatchError(.notFound, "the template refers to secret \(name), which does not exist")
                }
                guard let text = String(validating: value.unredacted, as: UTF8.self) else {
                    throw LatchError(.invalidInput, "secret \(name) is not UTF-8 text, so a template cannot hold it")
                }
                out += text
            }
        }
        return Redacted(out)
    }

    /// Looks up each referenced secret once in `resolver`, then renders as
    /// ``render(_:)`` does. Store and unsealing failures are rethrown.
    public func render(using resolver: some SecretResolver) async throws -> Redacted<String> {
        var values: [SecretName: Redacted<[UInt8]>] = [:]
        for name in self.secretNames {
            guard let value = try await resolver.secretValue(named: name) else {
                throw LatchError(.notFound, "the template refers to secret \(name), which does not exist")
            }
            values[name] = value
        }
        return try self.render(values)
    }

    public var description: String { self.source }
}
