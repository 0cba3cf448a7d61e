// Runs the component's typed exports from Node (jco + preview2-shim) against
// the local GitBook stand-in, both through the generated bindings and through
// sync.mjs. Needs `npm run transpile` and `cargo build -p host-test` first.
//
// The stand-in runs as a child process: the shim's outgoing HTTP blocks this
// thread, so a server in this process could never answer.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";

import { client, events, reconcile } from "../generated/gitbook_directory_sync.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleDir = path.resolve(here, "..");
const repoRoot = path.resolve(exampleDir, "../..");
const hostTest = process.env.HOST_TEST_BIN ?? path.join(repoRoot, "target/debug/host-test");
const TOKEN = "gb_test_token";

/** Starts `host-test standin --port 0`; resolves with its base URL and a stop function. */
async function startStandIn() {
  const child = spawn(hostTest, ["standin", "--port", "0", "--org", "acme", "--token", TOKEN], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise((resolve, reject) => {
    lines.once("line", resolve);
    child.once("error", (error) =>
      reject(new Error(`cannot start ${hostTest} (${error.code}): run \`cargo build -p host-test\` or set HOST_TEST_BIN`)),
    );
    exited.then((code) => reject(new Error(`${hostTest} standin exited with ${code} before printing its URL`)));
    setTimeout(() => reject(new Error(`${hostTest} standin printed nothing in 30 s`)), 30_000).unref();
  });
  let url;
  try {
    url = (await firstLine).trim();
  } catch (error) {
    child.kill();
    throw error;
  }
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  return {
    url,
    async stop() {
      lines.close();
      child.kill();
      await exited;
    },
  };
}

const settingsFor = (url, overrides = {}) => ({
  baseUrl: url,
  organization: "acme",
  token: TOKEN,
  allowInsecureHttp: true,
  ...overrides,
});

/** The team's ID, read straight from the stand-in (the client interface has no team lookup). */
async function teamId(url, title) {
  const response = await fetch(`${url}/v1/orgs/acme/teams`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  const team = (await response.json()).items.find((t) => t.title === title);
  assert.ok(team, `no team titled ${title}`);
  return team.id;
}

/** Calls `fn`, expects a ComponentError, returns its WIT error payload `{tag, val}`. */
function payloadOf(fn) {
  try {
    fn();
  } catch (error) {
    assert.equal(error.constructor.name, "ComponentError", `expected a ComponentError, got ${error}`);
    assert.ok(error.payload?.tag, "a ComponentError carries the WIT error variant as payload");
    return error.payload;
  }
  assert.fail("expected the call to throw");
}

describe("generated bindings", () => {
  let standIn;
  let settings;
  before(async () => {
    standIn = await startStandIn();
    settings = settingsFor(standIn.url);
  });
  after(() => standIn?.stop());

  it("lists the sample organization's 7 members", () => {
    const members = client.listMembers(settings, {});
    assert.equal(members.length, 7);
    const alice = members.find((m) => m.user.email === "alice@acme.test");
    assert.equal(alice.role, "admin");
    const gina = members.find((m) => m.user.email === "gina@partner.test");
    assert.equal(gina.role, undefined, "a guest has no role");
    assert.deepEqual(
      client.listMembers(settings, { role: { tag: "role", val: "admin" } }).map((m) => m.user.email),
      ["alice@acme.test"],
    );
    const page = client.listMembersPage(settings, {}, undefined, 3);
    assert.equal(page.items.length, 3);
    assert.equal(page.count, 7n, "u64 values are BigInts");
    assert.equal(typeof page.nextPage, "string");
  });

  it("invites a user, then adds them to a team and removes another in one call", async () => {
    const engineering = await teamId(standIn.url, "Engineering");
    const result = client.invite(settings, {
      emails: ["New.Hire@acme.test"],
      withRoles: [],
      role: "edit",
      sso: true,
    });
    assert.equal(result.invited, 1);
    assert.equal(result.userIds.length, 1);
    const [newId] = result.userIds;
    assert.match(newId, /^[0-9A-Za-z]{28}$/);
    assert.deepEqual(result.failedSsoEmails, []);

    const invitedMember = client.getMember(settings, newId);
    assert.equal(invitedMember.user.email, "new.hire@acme.test");
    assert.equal(invitedMember.role, "edit");
    assert.equal(invitedMember.sso, true);
    assert.equal(invitedMember.teams, 0);

    const bob = client.findMemberByEmail(settings, "bob@acme.test");
    assert.ok(bob);
    assert.equal(client.updateTeamMembers(settings, engineering, [newId], ["bob@acme.test"]), undefined);

    assert.equal(client.getMember(settings, newId).teams, 1);
    assert.equal(client.getMember(settings, bob.id).teams, bob.teams - 1);
    assert.equal(client.listMembers(settings, {}).length, 8);
    assert.equal(client.findMemberByEmail(settings, "nobody@acme.test"), undefined);
  });

  it("raises `unauthorized` for a wrong token", () => {
    const { tag, val } = payloadOf(() => client.listMembers(settingsFor(standIn.url, { token: "wrong" }), {}));
    assert.equal(tag, "unauthorized");
    assert.equal(val.status, 401);
    assert.equal(val.operation, "list members");
    assert.equal(val.attempts, 1);
    assert.equal(typeof val.elapsedMs, "bigint");
    assert.ok(!JSON.stringify(val, (_, v) => (typeof v === "bigint" ? String(v) : v)).includes("wrong"), "the token is never echoed");
  });

  it("raises `invalid-input` naming the field, and sends nothing", () => {
    let payload = payloadOf(() => client.updateTeamMembers(settings, "", ["x@acme.test"], []));
    assert.equal(payload.tag, "invalid-input");
    assert.equal(payload.val.field, "team-id");

    payload = payloadOf(() =>
      client.invite(settings, { emails: ["ok@acme.test", "not-an-email"], withRoles: [], role: "read", sso: true }),
    );
    assert.equal(payload.tag, "invalid-input");
    assert.equal(payload.val.field, "emails[1]");
    assert.match(payload.val.message, /not-an-email/);

    payload = payloadOf(() => client.listMembers(settingsFor(standIn.url, { allowInsecureHttp: false }), {}));
    assert.equal(payload.tag, "invalid-input");
    assert.equal(payload.val.field, "base-url");
    assert.equal(client.listMembers(settings, {}).length, 8, "nothing was invited by the refused calls");
  });

  it("applies a document of directory events in order, one result each", () => {
    const document = [
      { id: "e1", type: "user.joined", email: "joiner@acme.test", role: "comment" },
      { id: "e2", type: "group.changed", team: "support", add: ["joiner@acme.test"], remove: [] },
      { id: "e1", type: "user.joined", email: "joiner@acme.test", role: "comment" },
    ];
    const results = events.apply(settings, JSON.stringify(document), undefined);
    assert.deepEqual(
      results.map((r) => [r.id, r.kind, r.status]),
      [
        ["e1", "user.joined", "applied"],
        ["e2", "group.changed", "applied"],
        ["e1", "user.joined", "ignored"],
      ],
    );
    const joiner = client.findMemberByEmail(settings, "joiner@acme.test");
    assert.equal(joiner.role, "comment");
    assert.equal(joiner.teams, 1);

    const { tag, val } = payloadOf(() => events.apply(settings, '{"type": "user.joined"}', undefined));
    assert.equal(tag, "invalid-input");
    assert.equal(val.field, "event.email");
  });
});

describe("sync.mjs", () => {
  let standIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(() => standIn?.stop());

  // spawnSync blocks this thread, which is fine: the stand-in is another process.
  const run = (args, env = {}) =>
    spawnSync(process.execPath, [path.join(exampleDir, "sync.mjs"), ...args], {
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        GITBOOK_API_URL: standIn.url,
        GITBOOK_ORG: "acme",
        GITBOOK_TOKEN: TOKEN,
        GITBOOK_ALLOW_INSECURE_HTTP: "1",
        ...env,
      },
    });

  it("lists, invites and updates a team", async () => {
    const engineering = await teamId(standIn.url, "Engineering");
    const out = run(["--invite", "ann@acme.test", "--role", "edit", "--team", engineering, "--remove", "bob@acme.test"]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^7 members in acme:$/m);
    assert.match(out.stdout, /^ {2}admin +alice@acme\.test /m);
    assert.match(out.stdout, /^ {2}guest +gina@partner\.test /m);
    const invited = out.stdout.match(/^invited ann@acme\.test as edit: 1 added, user IDs ([0-9A-Za-z]{28})$/m);
    assert.ok(invited, out.stdout);
    assert.match(out.stdout, new RegExp(`^team ${engineering}: added \\[${invited[1]}\\], removed \\[bob@acme\\.test\\]$`, "m"));
    assert.match(out.stdout, /^ {2}ann@acme\.test is now in 1 team\(s\)$/m);

    const again = run([]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^8 members in acme:$/m);
    assert.match(again.stdout, /^ {2}edit +ann@acme\.test +[0-9A-Za-z]{28} +teams: 1$/m);
    assert.match(again.stdout, /^ {2}edit +bob@acme\.test +[0-9A-Za-z]{28} +teams: 0$/m);
  });

  it("prints `unauthorized` and exits 1 for a wrong token", () => {
    const out = run([], { GITBOOK_TOKEN: "wrong" });
    assert.equal(out.status, 1);
    assert.match(out.stderr, /^unauthorized: list members failed \(HTTP 401\): .* - check GITBOOK_TOKEN$/m);
    assert.doesNotMatch(out.stderr + out.stdout, /wrong/);
  });

  it("prints the invalid field and exits 2 for bad input", () => {
    const out = run(["--invite", "not-an-email"]);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /^invalid input: emails\[0\]: .*not-an-email.* \(nothing was sent\)$/m);
  });
});

describe("requests in flight under jco", () => {
  /**
   * Plans a mirror of 300 members in 10 teams against a stand-in that takes 40 ms an
   * answer; returns the stand-in's own counts: requests, and the most in flight at once.
   */
  async function planAt(concurrency) {
    const child = spawn(
      hostTest,
      ["standin", "--port", "0", "--members", "300", "--teams", "10", "--latency-ms", "40", "--until-stdin-closes"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.resume();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const lines = createInterface({ input: child.stdout });
    const url = (await new Promise((resolve) => lines.once("line", resolve))).trim();
    try {
      const response = await fetch(`${url}/v1/orgs/acme/teams`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const titles = (await response.json()).items.map((t) => t.title);
      const snapshot = JSON.stringify({ users: [], rules: { groupTeams: Object.fromEntries(titles.map((t) => [t, t])) } });
      const options = { strategy: "push", maxRemovals: undefined, maxRemovalPercent: undefined, allowMassRemoval: false };
      const plan = reconcile.plan(settingsFor(url, { concurrency }), snapshot, options);
      assert.equal(plan.currentMembers, 300);
    } finally {
      // Closing its input makes the stand-in print its counts and exit.
      child.stdin.end();
      await exited;
    }
    return JSON.parse(stderr.trim().split("\n").at(-1));
  }

  it("keeps several requests in flight when asked, though the call blocks this thread", async () => {
    const serial = await planAt(1);
    const asked = await planAt(8);
    assert.equal(serial.maxInFlight, 1);
    assert.equal(asked.requests, serial.requests, "the same reads, only sooner");
    assert.ok(asked.maxInFlight >= 4, `preview2-shim overlapped only ${asked.maxInFlight} requests`);
  });
});
