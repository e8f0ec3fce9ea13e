/// The approval page at `/admin/`: one HTML document and one script, no framework, nothing from
/// elsewhere, no inline script or style (the Content-Security-Policy `default-src 'self'` forbids
/// them anyway).
///
/// The operator pastes their token; it is kept in `sessionStorage` (gone when the tab closes) and
/// sent as `Authorization: Bearer`, never as a cookie, so another site cannot make the browser
/// decide (no CSRF). Every value from the server (arguments and prompts are written by whoever
/// controls the agent's inputs) is inserted with `textContent`, never as HTML.
///
/// What the tests drive: `#token`, `#save-token`, `#refresh`, `#message`; each pending approval is
/// an `li.approval` with `data-approval-id`, fields `.tool .agent .task .expires .reason .policies
/// .risk .arguments .prompt`, a `.note` input, `.approve` / `.deny` buttons, and `.outcome`.
enum AdminPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Latch approvals</title>
        </head>
        <body>
        <h1>Latch: held tool calls</h1>
        <p>
        <label for="token">Operator token</label>
        <input id="token" type="password" autocomplete="off" size="60">
        <button id="save-token" type="button">Use token</button>
        <button id="refresh" type="button">Refresh</button>
        </p>
        <p id="message" role="status"></p>
        <ul id="approvals"></ul>
        <script src="/admin/app.js"></script>
        </body>
        </html>

        """

    static let script = #"""
        "use strict";
        (function () {
          const key = "latch-operator-token";
          const list = document.getElementById("approvals");
          const message = document.getElementById("message");

          function token() { return sessionStorage.getItem(key) || ""; }

          function say(text) { message.textContent = text; }

          async function api(path, options) {
            const init = options || {};
            init.headers = Object.assign({ "Authorization": "Bearer " + token() }, init.headers || {});
            init.credentials = "omit";
            init.cache = "no-store";
            const response = await fetch(path, init);
            let body = null;
            try { body = await response.json(); } catch (e) { body = null; }
            return { status: response.status, body: body };
          }

          function field(parent, name, label, value) {
            const row = document.createElement("div");
            const title = document.createElement("strong");
            title.textContent = label + ": ";
            const content = document.createElement(typeof value === "object" && value !== null ? "pre" : "span");
            content.className = name;
            content.textContent = typeof value === "object" && value !== null ? JSON.stringify(value, null, 2) : String(value === null || value === undefined ? "-" : value);
            row.appendChild(title);
            row.appendChild(content);
            parent.appendChild(row);
          }

          function render(approval) {
            const item = document.createElement("li");
            item.className = "approval";
            item.dataset.approvalId = approval.id;
            field(item, "id", "Approval", approval.id);
            field(item, "tool", "Tool", approval.tool);
            field(item, "agent", "Agent", approval.agent);
            field(item, "task", "Task", approval.task_id);
            field(item, "expires", "Expires", new Date(approval.expires_at).toISOString());
            field(item, "reason", "Why held", approval.reason);
            field(item, "policies", "Policies", (approval.policies || []).join(", "));
            field(item, "risk", "Risk", approval.risk);
            field(item, "arguments", "Arguments", approval.arguments === undefined ? "(sealed, not opened)" : approval.arguments);
            field(item, "prompt", "Prompt", approval.prompt === null || approval.prompt === undefined ? "(none)" : approval.prompt);
            const note = document.createElement("input");
            note.className = "note";
            note.placeholder = "note (optional)";
            note.maxLength = 4096;
            item.appendChild(note);
            for (const verb of ["approve", "deny"]) {
              const button = document.createElement("button");
              button.type = "button";
              button.className = verb;
              button.textContent = verb === "approve" ? "Approve" : "Deny";
              button.addEventListener("click", function () { decide(item, approval.id, verb, note.value); });
              item.appendChild(button);
            }
            const outcome = document.createElement("p");
            outcome.className = "outcome";
            outcome.setAttribute("role", "status");
            item.appendChild(outcome);
            return item;
          }

          async function decide(item, id, verb, note) {
            const outcome = item.querySelector(".outcome");
            outcome.textContent = "…";
            try {
              const result = await api("/admin/approvals/" + encodeURIComponent(id) + "/" + verb, {
                method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(note ? { note: note } : {})
              });
              if (result.status === 200) {
                outcome.textContent = (verb === "approve" ? "approved" : "denied") + " by " + result.body.decided_by;
              } else {
                outcome.textContent = "error " + result.status + ": " + ((result.body && result.body.message) || "refused");
              }
              item.dataset.outcome = String(result.status);
            } catch (e) {
              outcome.textContent = "error: " + e;
              item.dataset.outcome = "error";
            }
          }

          async function load() {
            if (!token()) { say("Paste your operator token (latch operator add NAME prints it)."); return; }
            say("loading…");
            try {
              const result = await api("/admin/approvals?status=pending");
              if (result.status !== 200) {
                say("error " + result.status + ": " + ((result.body && result.body.message) || "refused"));
                return;
              }
              const now = Date.now();
              const pending = result.body.filter(function (a) { return a.status === "pending" && a.expires_at > now; });
              list.replaceChildren.apply(list, pending.map(render));
              say(pending.length + " pending");
              document.body.dataset.loaded = String(Date.now());
            } catch (e) {
              say("error: " + e);
            }
          }

          document.getElementById("save-token").addEventListener("click", function () {
            const input = document.getElementById("token");
            sessionStorage.setItem(key, input.value.trim());
            input.value = "";
            load();
          });
          document.getElementById("refresh").addEventListener("click", load);
          load();
        })();

        """#
}
