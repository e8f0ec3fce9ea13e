/// The Cedar policies `latch demo` runs with: the same text as `Examples/gateway/policies.cedar`
/// (a test keeps them equal), embedded so the demo needs no file from the repository.
enum DemoPolicies {
    static let text = """
        // Gateway policies: who may get which grant, and which tool calls are allowed (see the README,
        // "The MCP gateway"). One policy set decides both: the token endpoint asks RequestGrant,
        // DelegateGrant and IntrospectGrant; the gateway asks CallTool for every tools/call.

        // Agents of team "interop" may ask for grants over the demo tools, for at most ten minutes.
        @id("interop-agents-request-grants")
        permit (principal, action == Latch::Action::"RequestGrant", resource)
        when { principal has team && principal.team == "interop" && context.lifetime_seconds <= 600 };

        // An agent may introspect the grants of its own tasks.
        @id("introspect-own-tasks")
        permit (principal, action == Latch::Action::"IntrospectGrant", resource)
        when { resource.subject == principal };

        // Agents of team "interop" may call the tools their grant names (the gateway has already checked
        // the grant's scope: tools, data domains, destinations, sensitivity).
        @id("interop-agents-call-tools")
        permit (principal, action == Latch::Action::"CallTool", resource)
        when { principal has team && principal.team == "interop" };

        // Nothing goes out once the task has read restricted data, nor while a read is still in flight
        // (its result is not labelled yet).
        @id("no-egress-after-restricted-read")
        forbid (principal, action == Latch::Action::"CallTool", resource)
        when {
            resource.egress == "external" &&
            (context.session.sensitivity_read_rank >= 3 || context.session.reads_in_flight > 0)
        };

        // Destructive tools only for tasks that declared they delete something.
        @id("destructive-needs-intent")
        forbid (principal, action == Latch::Action::"CallTool", resource)
        when { resource.side_effects == "destructive" && !(context.intent like "*delete*") };

        """
}
