"""The official Python SDK (ledgix-python 0.4.0) against the standalone mock Vault.

Usage: check.py VAULT_URL API_KEY   (run by run.sh, with scripts/python_peer/rules.json)

Checks, each printed as it passes:
  1. an approved request whose A-JWT the SDK verifies itself (audience ledgix-sdk),
  2. a deny rule raises ClearanceDeniedError with the rule's reason,
  3. a review resolved through POST /reviews/{id}/decision, in the SDK's detach mode,
  4. verify_ledger_proof_bundle on the approved request's bundle -> intact,
  5. verify_ledger_proof over /ledger + /ledger/checkpoints -> intact.
"""

import hashlib
import json
import sys
import time

import httpx
from ledgix_python import (
    ClearanceDeniedError,
    ClearanceRequest,
    LedgixClient,
    ReviewPendingError,
    VaultConfig,
)


def fail(message):
    print(f"python-peer: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def args_hash(tool_args):
    compact = json.dumps(tool_args, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(compact.encode()).hexdigest()


def wait_for_bundle(client, request_id, timeout=15.0):
    """The bundle once the mock's background sealer has sealed the event (409 until then)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.fetch_ledger_proof_bundle(request_id)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409 or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main():
    url, api_key = sys.argv[1], sys.argv[2]
    settings = dict(
        vault_url=url,
        vault_api_key=api_key,
        agent_id="python-peer",
        review_poll_interval=0.05,
        review_timeout=15.0,
        retry_base_delay=0.05,
    )
    client = LedgixClient(VaultConfig(**settings))

    # 1. approved, token verified by the SDK (request_clearance verifies it: verify_jwt=True)
    refund_args = {"amount": 45, "currency": "usd", "note": "duplicate charge"}
    approved = client.request_clearance(
        ClearanceRequest(
            tool_name="stripe_refund_small",
            tool_args=refund_args,
            agent_id="python-peer",
            context={"policy_id": "refund_policy_v1"},
        )
    )
    check(approved.status == "approved", f"expected approved, got {approved.status}")
    check(approved.decision_status == "approved", f"decision_status {approved.decision_status}")
    check(bool(approved.token), "approved without a token")
    # A second client verifies the same token from scratch (the first one consumed its jti).
    claims = LedgixClient(VaultConfig(**settings)).verify_token(approved.token)
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    check("ledgix-sdk" in aud, f"aud {claims['aud']}")
    check(claims["iss"] == "alcv-vault" and claims["sub"] == "clearance", f"claims {claims}")
    check(claims["tool"] == "stripe_refund_small", f"tool {claims['tool']}")
    check(claims["policy_id"] == "refund_policy_v1", f"policy_id {claims['policy_id']}")
    check(claims["tool_args_hash"] == args_hash(refund_args), "tool_args_hash differs from the SDK's")
    print(f"python-peer: ok 1 approved request {approved.request_id}; the SDK verified its A-JWT "
          f"(kid in JWKS, aud ledgix-sdk, tool_args_hash {claims['tool_args_hash'][:19]}...)")

    # 2. a deny rule
    try:
        client.request_clearance(
            ClearanceRequest(tool_name="stripe_refund", tool_args={"amount": 9000}, agent_id="python-peer")
        )
        fail("stripe_refund was not denied")
    except ClearanceDeniedError as exc:
        check(exc.reason == "refunds are frozen", f"reason {exc.reason!r}")
        print(f"python-peer: ok 2 ClearanceDeniedError: {exc.reason} (request {exc.request_id})")

    # 3. a review resolved through the decision endpoint, in detach mode
    detached = LedgixClient(VaultConfig(**settings, review_mode="detach"))
    try:
        detached.request_clearance(
            ClearanceRequest(tool_name="wire_transfer", tool_args={"amount": 250000}, agent_id="python-peer")
        )
        fail("wire_transfer did not wait for review")
    except ReviewPendingError as exc:
        pending = exc.pending_approval
    decision = httpx.post(
        f"{url}/reviews/{pending.request_id}/decision",
        json={"approved": True, "review_reason": "approved by the python peer"},
        headers={"X-Vault-API-Key": api_key},
    )
    check(decision.status_code == 200, f"decision endpoint answered {decision.status_code}: {decision.text}")
    reviewed = pending.wait(timeout=15.0)
    check(reviewed.status == "approved" and reviewed.token, f"review outcome {reviewed.status}")
    detached.verify_token(reviewed.token)
    print(f"python-peer: ok 3 review of {pending.request_id} approved through "
          "POST /reviews/{id}/decision; PendingApproval.wait() returned it")

    # 4. the approved request's proof bundle
    bundle = wait_for_bundle(client, approved.request_id)
    result = client.verify_ledger_proof_bundle(bundle)
    check(result.intact, f"bundle not intact: {result.error}")
    print(f"python-peer: ok 4 verify_ledger_proof_bundle -> intact "
          f"(leaf {bundle.inclusion.leaf_index} of {bundle.inclusion.tree_size}, "
          f"{result.verified_checkpoints} checkpoint(s))")

    # 5. the whole ledger, once every event is sealed
    wait_for_bundle(client, pending.request_id)
    ledger = client.verify_ledger_proof()
    check(ledger.intact, f"ledger not intact: {ledger.error}")
    check(ledger.verified_entries == 3, f"expected 3 events, verified {ledger.verified_entries}")
    check(ledger.coverage_note is None, f"partial verification: {ledger.coverage_note}")
    print(f"python-peer: ok 5 verify_ledger_proof -> intact ({ledger.verified_entries} entries, "
          f"{ledger.verified_checkpoints} checkpoints, latest root checked)")
    print("python-peer: all checks passed")


if __name__ == "__main__":
    main()
