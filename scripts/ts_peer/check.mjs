// The official TypeScript SDK (ledgix-ts, its LedgixClient unmodified) against the standalone
// mock Vault. Usage: node check.mjs LEDGIX_TS_ENTRY VAULT_URL API_KEY CANONICAL_VERSION
// (run by run.sh, with scripts/ts_peer/rules.json).
//
// It makes decisions of every kind through ledgix-ts (approvals with assorted arguments, a
// denial, reviews approved and denied through the review decision API, a `processing` one),
// then verifies, with ledgix-ts's own verifiers:
//   1. the whole ledger (fetchLedger + fetchLedgerCheckpoints -> verifyLedgerProof): intact,
//      every entry, every checkpoint, the latest root recomputed (no coverage note);
//   2. every event's proof bundle (fetchLedgerProofBundle -> verifyLedgerProofBundle):
//      intact, with and without a consistency proof.
// Any rejection fails the run, loudly.
//
// Argument names are lowercase ASCII without `_`: ledgix-ts rewrites every key of an answer
// to camelCase, the keys inside `tool_args` included, so an argument named `customer_id` is
// hashed as `customerId` and fails its own check on any Vault (see tests/fixtures/README).
// Every request names its agent: ledgix-ts sends no `agent_id` unless the request carries one
// (the config's `agentId` is not applied), and the Vault requires it.
// Non-ASCII argument names are left out too: ledgix-ts sorts map keys by UTF-16 length, the
// Vault (and the mock) by UTF-8 length (README, "Compatibility").

import { pathToFileURL } from "node:url";

const [entry, url, apiKey, version] = process.argv.slice(2);
const sdk = await import(pathToFileURL(entry).href);
const { LedgixClient, ClearanceDeniedError, ReviewPendingError } = sdk;
const tag = `ts-peer (canonical_version ${version})`;

function fail(message) {
    console.error(`${tag}: FAIL: ${message}`);
    process.exit(1);
}

function check(condition, message) {
    if (!condition) fail(message);
}

const settings = {
    vaultUrl: url,
    vaultApiKey: apiKey,
    agentId: "ts-peer",
    reviewPollInterval: 50,
    reviewTimeout: 15_000,
    retryBaseDelay: 50,
};
const client = new LedgixClient(settings);
const detached = new LedgixClient({ ...settings, reviewMode: "detach" });
const requestIds = [];

async function decide(op) {
    try {
        return await op();
    } catch (err) {
        fail(`${err?.name ?? "error"}: ${err?.message ?? err}${err?.issues ? " " + JSON.stringify(err.issues) : ""}`);
    }
}

// 1. Approvals, with arguments of every JSON shape.
const argumentSets = [
    { amount: 45, currency: "usd", note: "duplicate charge" },
    { amount: 0.1, rate: -2.5, big: 9007199254740991, zero: 0, neg: -17 },
    { nested: { deep: { list: [1, 2.75, "three", null, true, false] } }, empty: {}, none: [] },
    { text: "caf\u00e9 \u2603 \ud83d\ude00 \"quoted\" \\ back", nothing: null, yes: true },
    { a: 1, bb: 2, ccc: 3, dddd: { e: [{ f: "g" }] }, z: "last" },
    { items: [{ sku: "a1", qty: 2, price: 19.99 }, { sku: "b2", qty: 1, price: 5 }] },
    {},
    { tiny: 1e-7, huge: 1e21, whole: 3.0 },
];
for (const [i, toolArgs] of argumentSets.entries()) {
    const clearance = await decide(() =>
        client.requestClearance({ toolName: `lookup${i}`, toolArgs, agentId: "ts-peer" }),
    );
    check(clearance.status === "approved" && clearance.token, `lookup${i}: ${clearance.status}`);
    requestIds.push(clearance.requestId);
}
console.log(`${tag}: ok ${argumentSets.length} approvals, each A-JWT verified by ledgix-ts`);

// Sealed before the rest: later bundles then prove consistency from an older checkpoint.
async function sealed(requestId) {
    const until = Date.now() + 15_000;
    for (;;) {
        try {
            return await client.fetchLedgerProofBundle(requestId);
        } catch (err) {
            // 409 until the background sealer has sealed the event.
            if (!String(err?.message).includes("409") || Date.now() > until) {
                fail(`bundle of ${requestId}: ${err?.message ?? err}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }
}
await sealed(requestIds[requestIds.length - 1]);

// 2. A denial by the rules.
try {
    await client.requestClearance({ toolName: "stripe_refund", toolArgs: { amount: 9000 }, agentId: "ts-peer" });
    fail("stripe_refund was not denied");
} catch (err) {
    check(err instanceof ClearanceDeniedError, `expected ClearanceDeniedError, got ${err}`);
    check(err.message.includes("refunds are frozen"), `reason: ${err.message}`);
    requestIds.push(err.requestId);
}
console.log(`${tag}: ok a denial (ClearanceDeniedError: refunds are frozen)`);

// 3. Reviews, decided through the review decision API: one approved, one denied.
async function held(toolArgs) {
    try {
        await detached.requestClearance({ toolName: "wire_transfer", toolArgs, agentId: "ts-peer" });
    } catch (err) {
        check(err instanceof ReviewPendingError, `expected ReviewPendingError, got ${err}`);
        return err.pendingApproval;
    }
    fail("wire_transfer was not held for review");
}
const toApprove = await held({ amount: 250000, memo: "approve me" });
const decision = await fetch(`${url}/reviews/${encodeURIComponent(toApprove.requestId)}/decision`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Vault-API-Key": apiKey },
    body: JSON.stringify({ approved: true, review_reason: "approved by the ts peer" }),
});
check(decision.status === 200, `decision endpoint answered ${decision.status}: ${await decision.text()}`);
const reviewed = await decide(() => toApprove.wait(15_000));
check(reviewed.status === "approved" && reviewed.token, `review outcome ${reviewed.status}`);
await decide(() => detached.verifyToken(reviewed.token));
requestIds.push(toApprove.requestId);
const toDeny = await held({ amount: 999999, memo: "deny me" });
await decide(() => toDeny.cancel());
requestIds.push(toDeny.requestId);
console.log(`${tag}: ok two reviews, approved and denied through POST /reviews/{id}/decision`);

// 4. A decision that stays `processing` for two polls.
const slow = await decide(() =>
    client.requestClearance({ toolName: "slow_lookup", toolArgs: { id: 7 }, agentId: "ts-peer" }),
);
check(slow.status === "approved", `slow_lookup: ${slow.status}`);
requestIds.push(slow.requestId);
console.log(`${tag}: ok a processing decision polled to its approval`);

// Wait for the background sealer: every event in a checkpoint.
const deadline = Date.now() + 15_000;
let entries = [];
let checkpoints = [];
for (;;) {
    entries = await decide(() => client.fetchLedger(1000));
    checkpoints = await decide(() => client.fetchLedgerCheckpoints(1000));
    const sealed = entries.every((e) => e.leafIndex !== undefined && e.leafIndex !== null);
    const covered = checkpoints.length > 0 && checkpoints[checkpoints.length - 1].treeSize === entries.length;
    if (entries.length === requestIds.length && sealed && covered) break;
    if (Date.now() > deadline) fail(`not every event was sealed within 15 s (${entries.length} entries)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
}
for (const e of entries) {
    check(e.canonicalVersion === Number(version), `entry ${e.seq} has canonical_version ${e.canonicalVersion}`);
}

// 5. The whole ledger.
const whole = await decide(() => client.verifyLedgerProof(entries, checkpoints));
check(whole.intact === true, `ledger not intact: ${JSON.stringify(whole)}`);
check(whole.verifiedEntries === requestIds.length, `verified ${whole.verifiedEntries} of ${requestIds.length} entries`);
check(whole.verifiedCheckpoints === checkpoints.length, `verified ${whole.verifiedCheckpoints} checkpoints`);
check(whole.coverageNote === undefined, `partial verification: ${whole.coverageNote}`);
console.log(
    `${tag}: ok verifyLedgerProof -> intact (${whole.verifiedEntries} entries, ` +
        `${whole.verifiedCheckpoints} checkpoints, latest root recomputed)`,
);

// 6. Every event's proof bundle.
let withConsistency = 0;
for (const requestId of requestIds) {
    const bundle = await decide(() => client.fetchLedgerProofBundle(requestId));
    const result = await decide(() => client.verifyLedgerProofBundle(bundle));
    check(result.intact === true, `bundle of ${requestId} not intact: ${JSON.stringify(result)}`);
    if (bundle.consistency) withConsistency += 1;
}
check(withConsistency > 0, "no bundle carried a consistency proof");
check(withConsistency < requestIds.length, "every bundle carried a consistency proof (none from the newest checkpoint)");
const latest = checkpoints[checkpoints.length - 1].checkpointId;
await decide(() => client.fetchLedgerConsistencyProof(checkpoints[0].checkpointId, latest));
await decide(() => client.fetchLedgerInclusionProof(requestIds[0]));
console.log(
    `${tag}: ok verifyLedgerProofBundle -> intact for all ${requestIds.length} bundles ` +
        `(${withConsistency} with a consistency proof, ${requestIds.length - withConsistency} without)`,
);
console.log(`${tag}: all checks passed`);
