/// Policy texts at the edges of Cedar's grammar, for checking that our parser accepts exactly what Cedar's does.
///
/// Each probe is a whole policy-set text; the differential test asks both parsers and compares accept/reject.
/// The fragments are written by hand (reserved words, escapes, chained relations, slots in the wrong place,
/// scope forms Cedar forbids, annotation forms, literal limits); random probes splice them into generated
/// policies. (`unknown("x")` is left out: cedarpy is built with partial evaluation, whose `unknown` function is not
/// part of the Cedar language we implement.)
enum DiffSyntax {
    /// Condition bodies, each used in `when { … }`.
    static let conditions: [String] = [
        "principal.if", "principal has if", "principal has then", "context[\"a\"][\"b\"]", "__cedar::ip(\"1.1.1.1\").isIpv4()",
        "decimal(1, 2)", "ip(\"1.2.3.4\").isInRange()", "\"\\x41\" == \"A\"", "\"\\x7f\" == \"\"", "\"\\x80\" == \"\"",
        "\"\\u{110000}\" == \"\"", "\"\\u{D800}\" == \"\"", "\"\\u{}\" == \"\"", "\"\\u{1234567}\" == \"\"", "\"\\q\" == \"\"",
        "\"\\'\" == \"'\"", "\"a\" like \"\\a\"", "\"a\" like \"\\*\\**\"", "if true then 1", "[1,,2] == []", "{a:1,,} == {}",
        "{,} == {}", "[,] == []", "principal.foo()", "!!true", "--1 == 1", "- -1 == 1", "-(9223372036854775808) == 0",
        "- 9223372036854775808 == 0", "-9223372036854775808 == 0", "9223372036854775808 == 0", "-9223372036854775809 == 0",
        "principal is User in Group", "principal is User::Foo", "Action::\"a\"::\"b\" == action", "principal.ñ == 1",
        "true && false || true", "a == 1", "principal.isEmpty()", "context.contains(1)", "principal has \"a b\".c",
        "principal has a.b.c", "principal[\"a\"] has b", "1 < 2 < 3", "principal in resource in action", "principal has a has b",
        "(1 == 1) == true", "1 == 1 == true", "principal.hasTag(1)", "principal.getTag()", "datetime(\"2020-01-01\").offset()",
        "unknownFunction(\"x\")", "User::\"a\".x", "User::\"a\"[\"x\"]", "{\"a\": 1}.a == 1",
        "{\"a\": 1, \"a\": 2}.a == 1", "{a: 1, \"a\": 2}.a == 1", "[].contains()", "principal like \"*\"", "1 like \"*\"",
        "\"a\" like principal", "principal is principal", "principal is ?principal", "?principal == principal", "true when",
        "context.a.b.c.d.e == 1", "1 +", "* 2", "principal && ", "\"unterminated", "/* c */ true", "true;",
        "if true then true else false", "if true then true", "principal.isInRange(principal)", "9223372036854775807 + 0 == 0",
        "0x10 == 16", "1.5 == 1", "01 == 1", "principal == User::\"\\u{1F600}\"", "User::\"a\" in [User::\"b\",]",
        "Ns::User::\"x\" == principal", "__cedar::decimal(\"1.0\") == decimal(\"1.0\")", "context has \"\"", "context[\"\"] == 1",
        "principal.__cedar == 1", "principal has __cedar", "resource is Action", "action.isIpv4()", "principal.lessThan(1)",
        "principal.toDays()", "principal.offset(1, 2)", "principal has in", "principal.in", "principal.is", "principal.like",
        "principal.true", "principal.principal == 1", "principal has principal", "principal.context", "context.action",
        "principal has \"if\"", "principal[\"if\"] == 1", "{if: 1}.if == 1", "{\"if\": 1}[\"if\"] == 1", "{principal: 1} == {}",
        "{true: 1} == {}", "{1: 1} == {}", "[principal, action, resource, context].isEmpty()", "ip(\"::1\") is ipaddr",
        "principal is __cedar::User", "principal is Action", "principal is Ns::Action", "(principal is User) in Group::\"a\"",
        "principal is User in [Group::\"a\"]", "principal is User in context.groups", "principal.containsAll()", "[1].containsAny([1], [2])",
        "principal.getTag(\"a\", \"b\")", "User::\"a\" .x", "User :: \"a\" == principal", "User::\"a\"::b", "User::a == principal",
        "principal in []", "if principal then resource else context", "(((((true)))))", "!(!(!false))", "-(-(-1)) == -1",
        "1 - -1 == 2", "1--1 == 2", "1 - - 1 == 2", "1 * -1 == -1", "-1 * 1 == -1", "2 * 3 * 4 == 24", "principal.a.b * 2 == 1",
        "true ? 1 : 2", "principal != resource != action", "principal == resource != action", "\"\\0\" == \"\"", "\"\\n\\r\\t\\\\\" == \"\"",
        "\"\\u{0}\" == \"\"", "\"\\u{00000041}\" == \"A\"", "\"\\u{000041}\" == \"A\"", "\"\\u{41\" == \"A\"", "\"\\u41\" == \"A\"",
        "\"tab\there\" == \"\"", "\"new\nline\" == \"\"",
    ]

    /// Whole policy texts exercising scopes, effects, annotations and separators.
    static let policies: [String] = [
        "permit(principal, action, resource,);", "permit(principal, action);", "permit(principal,action,resource)",
        "permit(action, principal, resource);", "permit(principal in [User::\"a\"], action, resource);",
        "permit(principal, action == User::\"x\", resource);", "permit(principal, action in [User::\"x\"], resource);",
        "permit(principal, action in User::\"x\", resource);", "permit(principal, action is Action, resource);",
        "permit(principal, action == ?principal, resource);", "permit(principal == ?resource, action, resource);",
        "permit(resource == ?resource, action, principal);", "permit(principal is User in ?principal, action, resource);",
        "permit(principal is ?principal, action, resource);", "permit(principal == ?principal, action, resource == ?resource);",
        "permit(principal in ?principal, action in [], resource);", "permit(principal, action in [Action::\"a\", Ns::Action::\"b\"], resource);",
        "permit(principal, action == Ns::Action::\"b\", resource);", "permit(principal, action in [Action::\"a\",], resource);",
        "permit(principal, action in [Action::\"a\"], resource) when { true } unless { false } when { true };",
        "Permit(principal, action, resource);", "permit(principal, action, resource) when {};",
        "permit(principal, action, resource) when { true } when;", "permit(principal, action, resource) advice { true };",
        "@id(\"a\") @id(\"b\") permit(principal, action, resource);", "@id(\"a\") @ID(\"b\") permit(principal, action, resource);",
        "@id permit(principal, action, resource);", "@id() permit(principal, action, resource);",
        "@id(\"a\" permit(principal, action, resource);", "@1 permit(principal, action, resource);",
        "@if(\"x\") permit(principal, action, resource);", "@__cedar(\"x\") permit(principal, action, resource);",
        "@a::b(\"x\") permit(principal, action, resource);", "@a(x) permit(principal, action, resource);",
        "@a(\"\\u{1F600}\") permit(principal, action, resource);", "@a(\"\\q\") permit(principal, action, resource);",
        "permit(principal == User::\"a\", action, resource == User::\"a\");", "permit(principal == principal, action, resource);",
        "permit(principal in User, action, resource);", "permit(principal is User in User, action, resource);",
        "permit(principal == \"a\", action, resource);", "forbid(principal, action, resource) ;;",
        "permit(principal, action, resource); garbage", "", "// only a comment", "permit(principal, action, resource) when { true } // trailing",
        "permit(principal, action, resource) when { principal in ?principal };", "permit(?principal, action, resource);",
        "permit(principal, action, resource) unless { ?resource };", "permit(principal is Action, action, resource is Action);",
        "permit(principal is __cedar::X, action, resource);", "permit(principal, action == Action::\"a\"::\"b\", resource);",
        "permit(principal, action in Action::\"a\", resource in Folder::\"f\" );", "permit (\n principal ,\n action ,\n resource\n ) ;",
        "permit(principal, action, resource)\nwhen\n{\ntrue\n}\n;", "permit(principal, action, resource) when { true }\n\n\npermit(principal, action, resource);",
        "permit(principal,action,resource);permit(principal,action,resource);", "permit(principal == User::\"a\" , action , resource is User in User::\"a\");",
        "permit(principal is User in Group::\"g\", action in [Action::\"a\", Action::\"a\"], resource is Ns::Doc);",
        "forbid(principal, action, resource) when { principal.a } unless { principal.b };",
        "permit(principal, action == Action::\"\\u{1F600}\", resource);", "permit(principal, action == Action::\"a\\\"b\", resource);",
        "permit(principal, action, resource) when { true } ; forbid(principal, action, resource) unless { false } ;",
    ]

    /// One probe: fixed probes first (every fragment and every policy), then random ones made by splicing a
    /// fragment into a generated policy.
    static func probe(_ index: Int, generator: inout DiffGenerator) -> String {
        if index < Self.conditions.count { return "permit(principal, action, resource) when { \(Self.conditions[index]) };" }
        if index < Self.conditions.count + Self.policies.count { return Self.policies[index - Self.conditions.count] }
        let fragment = generator.rng.pick(Self.conditions)
        let body = generator.expr(.bool, depth: generator.rng.int(0...2))
        let combined: String
        switch generator.rng.below(4) {
        case 0: combined = "(\(fragment)) && \(body)"
        case 1: combined = "\(body) || \(fragment)"
        case 2: combined = "if \(fragment) then \(body) else false"
        default: combined = "\(body) && \(fragment)"
        }
        let effect = generator.rng.chance(0.5) ? "permit" : "forbid"
        return "\(effect)(principal, action, resource) when { \(combined) };"
    }
}
