public import LatchCore
public import LatchIdentity

/// One row of an entry joined with one of its selectors, as both stores read them.
public struct EntrySelectorRow: Sendable {
    public var id: String
    public var spiffeID: String
    public var x509SVIDTTL: Int64
    public var jwtSVIDTTL: Int64
    public var attributes: String
    public var createdAt: Int64
    public var selectorType: String
    public var selectorValue: String

    public init(
        id: String, spiffeID: String, x509SVIDTTL: Int64, jwtSVIDTTL: Int64, attributes: String, createdAt: Int64,
        selectorType: String, selectorValue: String
    ) {
        self.id = id
        self.spiffeID = spiffeID
        self.x509SVIDTTL = x509SVIDTTL
        self.jwtSVIDTTL = jwtSVIDTTL
        self.attributes = attributes
        self.createdAt = createdAt
        self.selectorType = selectorType
        self.selectorValue = selectorValue
    }
}

/// Turning joined rows back into entries, and the SQL both stores share for reading them.
public enum EntryRows {
    /// Groups rows ordered by entry (all rows of one entry adjacent) into entries, keeping that order.
    ///
    /// A stored value that no longer parses (a SPIFFE ID or attributes edited by hand) is reported
    /// as `internalError` naming the entry, not skipped: silently dropping a registration would
    /// change which workloads get identities.
    public static func assemble(_ rows: some Sequence<EntrySelectorRow>) throws(LatchError) -> [RegistrationEntry] {
        var entries: [RegistrationEntry] = []
        var current: (first: EntrySelectorRow, selectors: [Selector])?
        func finish(_ group: (first: EntrySelectorRow, selectors: [Selector])) throws(LatchError) -> RegistrationEntry {
            let row = group.first
            let spiffeID: SPIFFEID
            do {
                spiffeID = try SPIFFEID(parsing: row.spiffeID)
            } catch {
                throw LatchError(.internalError, "stored entry \(row.id) has an invalid SPIFFE ID: \(error.message)")
            }
            let attributes: [String: EntryAttribute]
            do {
                attributes = try AttributesJSON.decode(row.attributes)
            } catch {
                throw LatchError(.internalError, "stored entry \(row.id): \(error.message)")
            }
            return RegistrationEntry(
                id: row.id, spiffeID: spiffeID, selectors: group.selectors, x509SVIDTTL: row.x509SVIDTTL,
                jwtSVIDTTL: row.jwtSVIDTTL, attributes: attributes, createdAt: row.createdAt)
        }
        for row in rows {
            let selector = Selector(type: row.selectorType, value: row.selectorValue)
            if let group = current, group.first.id == row.id {
                current?.selectors.append(selector)
            } else {
                if let group = current { entries.append(try finish(group)) }
                current = (row, [selector])
            }
        }
        if let group = current { entries.append(try finish(group)) }
        return entries
    }

    /// Columns selected by every entry query, in ``EntrySelectorRow`` order (`e` entries, `s` selectors).
    public static let columns = "e.id, e.spiffe_id, e.x509_svid_ttl, e.jwt_svid_ttl, e.attributes, e.created_at, s.type, s.value"

    /// Matching: the entries all of whose selectors are among the `presented(type, value)` rows.
    ///
    /// Candidates come from the selector index (an entry must share at least one selector with
    /// what was presented, so an entry without selectors never matches); the `NOT EXISTS` keeps
    /// those with no selector outside the presented set. The caller prefixes
    /// `WITH presented(type, value) AS (…)` in its own dialect.
    public static let matchingBody = """
        , matched AS (
            SELECT e.* FROM registration_entries e
            WHERE e.id IN (
                SELECT s.entry_id FROM registration_selectors s
                JOIN presented p ON p.type = s.type AND p.value = s.value
            )
            AND NOT EXISTS (
                SELECT 1 FROM registration_selectors s
                WHERE s.entry_id = e.id
                AND NOT EXISTS (SELECT 1 FROM presented p WHERE p.type = s.type AND p.value = s.value)
            )
        )
        SELECT \(columns) FROM matched e
        JOIN registration_selectors s ON s.entry_id = e.id
        ORDER BY e.created_at, e.id, s.type, s.value
        """
}
