#!/usr/bin/env node
// Calls the gitbook-directory-sync component from Node.js through the typed
// exports of `gitbook:directory-sync/client@0.3.0`, as transpiled by jco.
//
//   npm ci && npm run transpile     # once: ./generated/ from the built .wasm
//   GITBOOK_API_URL=… GITBOOK_ORG=… GITBOOK_TOKEN=… \
//     node sync.mjs [--invite EMAIL]... [--role ROLE] [--team TEAM_ID [--add X]... [--remove X]...]
//
// It lists the members, invites the given emails (SSO users, role `read` by
// default), then updates a team in one request: `--add` defaults to the users
// just invited; entries are GitBook user IDs or emails. Set
// GITBOOK_ALLOW_INSECURE_HTTP=1 only for a local http:// stand-in.
//
// Exit codes: 0 success, 1 GitBook or the network failed, 2 bad input
// (nothing was sent).
//
// How the pieces fit:
// - `jco transpile` turns the component into core wasm + an ES module whose
//   WASI imports (0.2.12 here) point at @bytecodealliance/preview2-shim: no
//   `--map` or `--instantiation` flag is needed.
// - The shim's Node HTTP client is synchronous: a call blocks this thread
//   until GitBook answers, so the GitBook API (or a local stand-in) must not
//   be served from this same process. Within a call, the requests the
//   component keeps in flight (`settings.concurrency`) do overlap: the shim
//   sends them from its worker and `poll` waits on all of them.
// - A WIT `result` error is thrown as a ComponentError whose `payload` is the
//   WIT `error` variant: `{tag: "unauthorized", val: {operation, status, …}}`.
//   u64 fields (`elapsedMs`, `retryAfterMs`, `count`) are BigInts.
import { parseArgs } from "node:util";

let client;
try {
  ({ client } = await import("./generated/gitbook_directory_sync.js"));
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  console.error("generated/ is missing: run `npm run transpile` first (after `cargo build --release --target wasm32-wasip2`)");
  process.exit(2);
}
// The shim hands the component this process's whole environment by default;
// everything it needs comes in `settings`, so give it none.
const { _setEnv } = await import("@bytecodealliance/preview2-shim/cli");
_setEnv({});

/** One line saying what went wrong and what to do, from a thrown ComponentError. */
function describeError(error) {
  const payload = error?.payload;
  if (!payload?.tag) return `unexpected failure: ${error?.stack ?? error}`;
  const { tag, val } = payload;
  switch (tag) {
    case "invalid-input":
      return `invalid input: ${val.field}: ${val.message} (nothing was sent)`;
    case "safety-stop":
      return `safety stop: ${val}`;
    default: {
      const hint = {
        unauthorized: "check GITBOOK_TOKEN",
        forbidden: "the token's user must be an organization admin",
        "not-found": "check GITBOOK_ORG and the IDs",
        "rate-limited": val.retryAfterMs === undefined ? "wait and retry" : `retry after ${val.retryAfterMs} ms`,
        "server-error": "GitBook is failing: run again later",
        "invalid-response": "check GITBOOK_API_URL",
        transport: "check the network and GITBOOK_API_URL",
        "deadline-exceeded": "GitBook did not answer in time: run again later, or raise the deadline",
      }[tag];
      const status = val.status === undefined ? "" : ` (HTTP ${val.status})`;
      return `${tag}: ${val.operation} failed${status}: ${val.message}` +
        ` [${val.attempts} attempt(s), ${val.elapsedMs} ms]` + (hint ? ` - ${hint}` : "");
    }
  }
}

function usageError(message) {
  return Object.assign(new Error(message), { code: "ERR_PARSE_ARGS_USAGE" });
}

function main() {
  const { values: opts } = parseArgs({
    options: {
      invite: { type: "string", multiple: true, default: [] },
      role: { type: "string", default: "read" },
      team: { type: "string" },
      add: { type: "string", multiple: true },
      remove: { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h" },
    },
  });
  if (opts.help) {
    console.log("usage: node sync.mjs [--invite EMAIL]... [--role ROLE] [--team TEAM_ID [--add X]... [--remove X]...]");
    console.log("environment: GITBOOK_API_URL, GITBOOK_ORG, GITBOOK_TOKEN, GITBOOK_ALLOW_INSECURE_HTTP=1 (stand-ins only)");
    return;
  }
  const roles = ["admin", "create", "edit", "review", "comment", "read", "guest"];
  if (!roles.includes(opts.role)) throw usageError(`--role must be one of ${roles.join(", ")}`);
  const env = process.env;
  const settings = {
    baseUrl: env.GITBOOK_API_URL, // undefined: https://api.gitbook.com
    organization: env.GITBOOK_ORG,
    token: env.GITBOOK_TOKEN,
    allowInsecureHttp: env.GITBOOK_ALLOW_INSECURE_HTTP === "1",
    // Optional: retry: {maxAttempts, maxWaitMs, deadlineMs, baseDelayMs} (u64s as BigInt)
  };

  // 1. Every member, all pages.
  const members = client.listMembers(settings, {});
  console.log(`${members.length} members in ${settings.organization}:`);
  for (const m of members) {
    console.log(`  ${(m.role ?? "guest").padEnd(8)} ${(m.user.email ?? "-").padEnd(24)} ${m.id}  teams: ${m.teams}`);
  }

  // 2. Someone joined: one invite request for every email.
  let invited = [];
  if (opts.invite.length > 0) {
    const result = client.invite(settings, {
      emails: opts.invite,
      withRoles: [],
      role: opts.role === "guest" ? undefined : opts.role,
      sso: true,
    });
    invited = result.userIds;
    console.log(`invited ${opts.invite.join(", ")} as ${opts.role}: ${result.invited} added, user IDs ${result.userIds.join(", ")}`);
    if (result.failedSsoEmails.length > 0) {
      console.log(`  not made SSO users (they belong to another organization): ${result.failedSsoEmails.join(", ")}`);
    }
  }

  // 3. A group changed: add and remove team members in one request.
  if (opts.team !== undefined) {
    const add = opts.add ?? invited;
    client.updateTeamMembers(settings, opts.team, add, opts.remove);
    console.log(`team ${opts.team}: added [${add.join(", ")}], removed [${opts.remove.join(", ")}]`);
    for (const id of add.filter((x) => !x.includes("@"))) {
      const member = client.getMember(settings, id);
      console.log(`  ${member.user.email ?? id} is now in ${member.teams} team(s)`);
    }
  }
}

try {
  main();
} catch (error) {
  if (String(error?.code).startsWith("ERR_PARSE_ARGS_")) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(describeError(error));
  process.exit(error?.payload?.tag === "invalid-input" ? 2 : 1);
}
