// The directory-sync jobs of BENCHMARKS.md written with the official GitBook
// client, `@gitbook/api`, the way its README shows it: one `GitBookAPI`
// client, `await` each call, `data` from each answer. The benchmark
// (host-test/benches/benchmarks) runs it against the same stand-in as the
// component and counts the requests at the stand-in.
//
//   node sync.mjs <job> '<json args>'
//
// Environment: GITBOOK_API_URL (the stand-in, without /v1), GITBOOK_TOKEN,
// GITBOOK_ORG, and PAGE_LIMIT: unset lists with the API's default page size
// (what a script following the README gets), a number passes `limit`.
// BATCH: unset, every call is awaited before the next (the README's way); a
// number n makes `reconcile` send independent requests together, as a
// careful user would write it with `Promise.all`: the member walk beside the
// team list and then the mapped teams' member reads, n team reads at a time,
// then each write stage (invites, team updates, role changes, removals, in
// that order) n requests at a time.
// WARMUP_URL, if set, is fetched once before the job, so the job is timed
// in a warm process as in a long-running service (the benchmark leaves that
// request out of its counts).
//
// Prints one JSON line: {"ms": <wall time of the job>, "cpuMs": <process CPU
// time during the job>, "setupMs": <process start to client ready>,
// "maxRssKb": ..., "result": ...}.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { GitBookAPI } from "@gitbook/api";

const gitbook = new GitBookAPI({
    endpoint: process.env.GITBOOK_API_URL,
    authToken: process.env.GITBOOK_TOKEN,
});
const org = process.env.GITBOOK_ORG;
const limit = process.env.PAGE_LIMIT ? Number(process.env.PAGE_LIMIT) : undefined;
const batch = process.env.BATCH ? Number(process.env.BATCH) : undefined;

/** Every item of a paginated list, following `next.page`. */
async function listAll(fetchPage) {
    const items = [];
    let page;
    do {
        const { data } = await fetchPage(page);
        items.push(...data.items);
        page = data.next?.page;
    } while (page);
    return items;
}

const listMembers = (query = {}) =>
    listAll((page) => gitbook.orgs.listMembersInOrganizationById(org, { ...query, page, limit }));

const roleOf = (role) => (role === "guest" ? null : role);

/** `call(item, index)` for every item, `size` at a time with `Promise.all`; the results in order. */
async function inBatches(items, size, call) {
    const results = [];
    for (let i = 0; i < items.length; i += size) {
        const batch = items.slice(i, i + size).map((item, j) => call(item, i + j));
        results.push(...(await Promise.all(batch)));
    }
    return results;
}

/** The directory snapshot as the reconcile jobs read it. */
function readSnapshot(snapshotPath) {
    const snapshot = JSON.parse(readFileSync(snapshotPath, "utf8"));
    const rules = snapshot.rules ?? {};
    const defaultRole = roleOf(rules.defaultRole ?? "read");
    const users = snapshot.users.map((u) => ({
        email: u.email.toLowerCase(),
        role: u.role === undefined ? defaultRole : roleOf(u.role),
        groups: u.groups ?? [],
    }));
    return { rules, users, wanted: new Set(users.map((u) => u.email)) };
}

/** The team update a group needs: `{ add, remove }`, or null if none. */
function teamChange({ users, wanted, byEmail }, group, current) {
    const currentIds = new Set(current.map((m) => m.organization.id));
    const inGroup = users.filter((u) => u.groups.includes(group));
    const inGroupIds = new Set(inGroup.map((u) => byEmail.get(u.email)?.id).filter(Boolean));
    const add = inGroup
        .filter((u) => !currentIds.has(byEmail.get(u.email)?.id))
        .map((u) => byEmail.get(u.email)?.id ?? u.email);
    // People who left the directory leave every team with the organization.
    const remove = current
        .map((m) => m.organization)
        .filter((m) => wanted.has(m.user.email?.toLowerCase()) && !inGroupIds.has(m.id))
        .map((m) => m.id);
    return add.length || remove.length ? { add, remove } : null;
}

const listTeams = () => listAll((page) => gitbook.orgs.listTeamsInOrganizationById(org, { page, limit }));
const listTeamMembers = (team) =>
    listAll((page) => gitbook.orgs.listTeamMembersInOrganizationById(org, team.id, { page, limit }));

/** Joiners, 1000 to a request, each with their own role. */
function inviteRequests({ users, rules, byEmail }) {
    const joiners = users.filter((u) => !byEmail.has(u.email));
    const requests = [];
    for (let i = 0; i < joiners.length; i += 1000) {
        const emails = joiners.slice(i, i + 1000).map((u) => ({ email: u.email, role: u.role }));
        requests.push({ emails, sso: rules.sso ?? true });
    }
    return requests;
}

/** Members whose role differs (admins are never demoted). */
const roleChanges = ({ users, byEmail }) =>
    users
        .map((user) => ({ user, member: byEmail.get(user.email) }))
        .filter(({ user, member }) => member && member.role !== "admin" && member.role !== user.role);

/** Members who left the directory (admins are never removed). */
const leavers = ({ wanted }, members) =>
    members.filter((m) => !wanted.has(m.user.email?.toLowerCase()) && m.role !== "admin");

/**
 * The reconcile job with independent requests sent `size` at a time
 * (BATCH): the same requests as the serial job, the same stage order.
 */
async function reconcileInBatches(snapshotPath, size) {
    const job = readSnapshot(snapshotPath);
    const groups = Object.entries(job.rules.groupTeams ?? {});
    // The member walk is a chain of pages; beside it, the team list, any
    // missing team's creation, then the mapped teams' members.
    const teamReads = async () => {
        const teams = await listTeams();
        const found = groups.map(([, title]) => teams.find((t) => t.title.toLowerCase() === title.toLowerCase()));
        const mapped = await inBatches(groups, size, async ([, title], i) =>
            found[i] ?? (await gitbook.orgs.createOrganizationTeam(org, { title })).data,
        );
        return { mapped, current: await inBatches(mapped, size, listTeamMembers) };
    };
    const [members, { mapped, current }] = await Promise.all([listMembers(), teamReads()]);
    job.byEmail = new Map(members.map((m) => [m.user.email?.toLowerCase(), m]));
    const counts = { invites: 0, teamUpdates: 0, roleChanges: 0, removals: 0 };

    await inBatches(inviteRequests(job), size, async (request) => {
        await gitbook.orgs.inviteUsersToOrganization(org, request);
        counts.invites += request.emails.length;
    });
    const updates = groups
        .map(([group], i) => ({ team: mapped[i], change: teamChange(job, group, current[i]) }))
        .filter(({ change }) => change);
    await inBatches(updates, size, async ({ team, change }) => {
        await gitbook.orgs.updateMembersInOrganizationTeam(org, team.id, change);
        counts.teamUpdates++;
    });
    await inBatches(roleChanges(job), size, async ({ user, member }) => {
        await gitbook.orgs.updateMemberInOrganizationById(org, member.id, { role: user.role });
        counts.roleChanges++;
    });
    await inBatches(leavers(job, members), size, async (member) => {
        await gitbook.orgs.removeMemberFromOrganizationById(org, member.id);
        counts.removals++;
    });
    return counts;
}

const jobs = {
    /** Someone joins: one SSO invite. */
    async join({ email, role = "read" }) {
        const { data } = await gitbook.orgs.inviteUsersToOrganization(org, { emails: [email], role, sso: true });
        return data.users;
    },

    /** Someone leaves, by the GitBook ID saved at join time. */
    async leaveById({ userId }) {
        const response = await gitbook.orgs.removeMemberFromOrganizationById(org, userId);
        return response.status;
    },

    /** Someone leaves whose ID was never saved: search by email, then remove. */
    async leaveByEmail({ email }) {
        const members = await listMembers({ search: email });
        const member = members.find((m) => m.user.email?.toLowerCase() === email.toLowerCase());
        if (!member) return "not a member";
        const response = await gitbook.orgs.removeMemberFromOrganizationById(org, member.id);
        return response.status;
    },

    /** A group changes: one team update with additions and removals. */
    async groupChange({ teamId, add, remove }) {
        const response = await gitbook.orgs.updateMembersInOrganizationTeam(org, teamId, { add, remove });
        return response.status;
    },

    /** Every member of the organization. */
    async list() {
        return (await listMembers()).length;
    },

    /**
     * Make GitBook match a directory snapshot (the component's "sync"
     * strategy on the benchmark's snapshot: users with a role and groups,
     * groups mapped to team titles, admins never removed or demoted).
     */
    async reconcile({ snapshotPath }) {
        if (batch) return reconcileInBatches(snapshotPath, batch);
        const job = readSnapshot(snapshotPath);
        const members = await listMembers();
        job.byEmail = new Map(members.map((m) => [m.user.email?.toLowerCase(), m]));
        const teams = await listTeams();
        const counts = { invites: 0, teamUpdates: 0, roleChanges: 0, removals: 0 };

        for (const request of inviteRequests(job)) {
            await gitbook.orgs.inviteUsersToOrganization(org, request);
            counts.invites += request.emails.length;
        }

        // One update per mapped team whose members differ.
        for (const [group, title] of Object.entries(job.rules.groupTeams ?? {})) {
            let team = teams.find((t) => t.title.toLowerCase() === title.toLowerCase());
            if (!team) team = (await gitbook.orgs.createOrganizationTeam(org, { title })).data;
            const change = teamChange(job, group, await listTeamMembers(team));
            if (change) {
                await gitbook.orgs.updateMembersInOrganizationTeam(org, team.id, change);
                counts.teamUpdates++;
            }
        }

        for (const { user, member } of roleChanges(job)) {
            await gitbook.orgs.updateMemberInOrganizationById(org, member.id, { role: user.role });
            counts.roleChanges++;
        }

        for (const member of leavers(job, members)) {
            await gitbook.orgs.removeMemberFromOrganizationById(org, member.id);
            counts.removals++;
        }
        return counts;
    },
};

const [job, args = "{}"] = process.argv.slice(2);
if (!jobs[job]) {
    console.error(`usage: node sync.mjs <${Object.keys(jobs).join("|")}> '<json args>'`);
    process.exit(2);
}
const setupMs = performance.now();
if (process.env.WARMUP_URL) await (await fetch(process.env.WARMUP_URL)).arrayBuffer();
const cpu = process.cpuUsage();
const start = performance.now();
const result = await jobs[job](JSON.parse(args));
const ms = performance.now() - start;
const { user, system } = process.cpuUsage(cpu);
const cpuMs = (user + system) / 1000;
console.log(JSON.stringify({ ms, cpuMs, setupMs, maxRssKb: process.resourceUsage().maxRSS, result }));
