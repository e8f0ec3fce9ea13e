extension CedarError {
    /// This error with `prefix` put before its message (for context such as the attribute path).
    func prefixed(_ prefix: String, code: CedarError.Code? = nil) -> CedarError {
        CedarError(code ?? self.code, prefix + self.message, at: self.location)
    }
}
