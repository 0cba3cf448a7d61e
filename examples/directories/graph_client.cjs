// Microsoft's own Graph client against the Entra ID stand-in.
//
// @microsoft/microsoft-graph-client (the JavaScript SDK) makes the calls the
// component makes: a client-credentials token from the tenant's v2.0 token
// endpoint, users with $select/$top following @odata.nextLink, a group found
// by displayName, and its transitive members page by page. The SDK builds the
// URLs and the OData query strings and parses the answers: Microsoft's code,
// not ours, is the client. The counts asserted are the stand-in's seed
// (`directory-standin entra --users 25 --groups 2`).
//
// Two departures, both forced by the stand-in being plain http on loopback:
// - the SDK's AuthenticationHandler attaches tokens only to https Graph hosts
//   (or https custom hosts), so a three-line middleware in front of its own
//   RetryHandler and HTTPMessageHandler attaches the bearer token instead;
// - the SDK re-parses an absolute nextLink only when it is https, so each
//   @odata.nextLink is handed back to client.api() without its scheme and
//   host; the SDK still parses and re-sends its query ($skiptoken included).
//
// Usage: node graph_client.cjs <stand-in URL> [<capture dir>]
// With a capture dir, writes the default /users page and the group lookup as
// a TypeScript file typed with @microsoft/microsoft-graph-types for `tsc`.
// CommonJS so that NODE_PATH finds the SDK installed under target/.
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");
const graph = require("@microsoft/microsoft-graph-client");

const { Client, RetryHandler, RetryHandlerOptions, HTTPMessageHandler } = graph;
const [base, captureDir] = process.argv.slice(2);
const tenant = "acme.onmicrosoft.test";

// Client credentials, exactly as the component asks for a token.
async function token() {
  const response = await fetch(`${base}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "11111111-2222-3333-4444-555555555555",
      client_secret: "entra~test~secret",
      scope: `${base}/.default`,
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// One token for the whole read, as the component keeps it until it expires.
let cached;
const authProvider = { getAccessToken: () => (cached ??= token()) };
class BearerOverHttp {
  async execute(context) {
    context.options.headers = { ...context.options.headers, Authorization: `Bearer ${await authProvider.getAccessToken()}` };
    return this.next.execute(context);
  }
  setNext(next) {
    this.next = next;
  }
}
const auth = new BearerOverHttp();
const retry = new RetryHandler(new RetryHandlerOptions());
auth.setNext(retry);
retry.setNext(new HTTPMessageHandler());
const client = Client.initWithMiddleware({ baseUrl: base, defaultVersion: "v1.0", middleware: auth });

// Every page of a collection, following @odata.nextLink.
async function all(request) {
  const items = [];
  let pages = 0;
  let response = await request.get();
  for (;;) {
    pages += 1;
    items.push(...response.value);
    const next = response["@odata.nextLink"];
    if (!next) return { items, pages };
    if (!next.startsWith(`${base}/v1.0/`)) throw new Error(`nextLink leaves the API: ${next}`);
    response = await client.api(next.slice(`${base}/v1.0`.length)).get();
  }
}

function assert(condition, ...what) {
  if (!condition) throw new Error(`assertion failed: ${JSON.stringify(what)}`);
}

async function main() {
const users = await all(client.api("/users").select(["id", "mail", "userPrincipalName", "accountEnabled"]).top(10));
assert(users.items.length === 25 && users.pages === 3, users.items.length, users.pages);
assert(users.items[0].mail === "user-00001@acme.test", users.items[0]);
const disabled = users.items.filter((u) => u.accountEnabled === false).map((u) => u.mail);
assert(disabled.length === 1 && disabled[0] === "user-00020@acme.test", disabled);
assert(users.items.every((u) => Object.keys(u).sort().join() === "accountEnabled,id,mail,userPrincipalName"), users.items[0]);

const groups = await client.api("/groups").filter("displayName eq 'group-001'").select(["id", "displayName"]).get();
assert(groups.value.length === 1 && groups.value[0].displayName === "group-001", groups);
const members = await all(client.api(`/groups/${groups.value[0].id}/transitiveMembers`).select(["id"]).top(5));
assert(members.items.length === 13 && members.pages === 3, members.items.length, members.pages);
assert(members.items.every((m) => m["@odata.type"] === "#microsoft.graph.user"), members.items[0]);

// A page size beyond Graph's 999 is refused with Graph's error shape, which
// the SDK turns into a GraphError carrying the code.
try {
  await client.api("/users").top(1000).get();
  throw new Error("$top=1000 was accepted");
} catch (error) {
  assert(error.statusCode === 400 && error.code === "Request_BadRequest", error.statusCode, error.code);
}

if (captureDir) {
  const defaults = await client.api("/users").top(3).get();
  const group = await client.api("/groups").filter("displayName eq 'group-002'").get();
  const strip = (page) => page.value; // @odata.* annotations are not properties of the types
  writeFileSync(
    join(captureDir, "graph-responses.ts"),
    `import type { User, Group } from "@microsoft/microsoft-graph-types";\n` +
      `export const users: User[] = ${JSON.stringify(strip(defaults), null, 1)};\n` +
      `export const selected: User[] = ${JSON.stringify(users.items.slice(0, 3), null, 1)};\n` +
      `export const groups: Group[] = ${JSON.stringify(strip(group), null, 1)};\n`,
  );
}

console.log(
  `@microsoft/microsoft-graph-client: ${users.items.length} users in ${users.pages} pages, ` +
    `${members.items.length} transitive members in ${members.pages} pages`,
);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
