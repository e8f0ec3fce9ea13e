/// Constructors for the evaluation errors, with messages in the spirit of Cedar's.
enum TypeCheck {
    /// `type error: expected long, got string`
    static func mismatch(_ expected: String, _ got: Value) -> CedarError {
        CedarError(.typeError, "type error: expected \(expected), got \(got.typeName)")
    }

    /// `type error: expected one of [long, datetime, duration], got string`
    static func mismatch(oneOf expected: [String], _ got: Value) -> CedarError {
        CedarError(.typeError, "type error: expected one of [\(expected.joined(separator: ", "))], got \(got.typeName)")
    }

    static let anyEntity = "(entity of type `any_entity_type`)"

    static func entityNotFound(_ uid: EntityUID) -> CedarError {
        CedarError(.entityNotFound, "entity `\(uid)` does not exist")
    }

    static func attributeNotFound(_ uid: EntityUID, _ attr: String) -> CedarError {
        CedarError(.attributeNotFound, "`\(uid)` does not have the attribute `\(attr)`")
    }

    static func recordAttributeNotFound(_ attr: String) -> CedarError {
        CedarError(.attributeNotFound, "record does not have the attribute `\(attr)`")
    }

    static func tagNotFound(_ uid: EntityUID, _ tag: String) -> CedarError {
        CedarError(.tagNotFound, "`\(uid)` does not have the tag `\(tag)`")
    }

    static func overflow(_ op: String, _ a: Int64, _ b: Int64) -> CedarError {
        CedarError(.overflow, "integer overflow while attempting to \(op) the values `\(a)` and `\(b)`")
    }
}
