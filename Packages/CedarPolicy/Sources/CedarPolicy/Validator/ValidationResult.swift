/// One validation error or warning about a policy.
public struct ValidationDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public var policyID: String
    public var message: String
    public var location: SourceLocation?

    public init(policyID: String, message: String, location: SourceLocation? = nil) {
        self.policyID = policyID
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location, location != .unknown { return "\(self.policyID) (\(location)): \(self.message)" }
        return "\(self.policyID): \(self.message)"
    }
}

/// What `Validator.validate` found: policies pass when there are no errors (warnings are advice).
public struct ValidationResult: Sendable {
    public var errors: [ValidationDiagnostic]
    public var warnings: [ValidationDiagnostic]

    public init(errors: [ValidationDiagnostic] = [], warnings: [ValidationDiagnostic] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    public var passed: Bool { self.errors.isEmpty }
}
