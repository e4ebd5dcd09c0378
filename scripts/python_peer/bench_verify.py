"""Per-call time of ledgix-python 0.4.0's verify_ledger_proof_bundle on one bundle, beside the
raw Ed25519 verifications of the same bundle (its crypto floor in Python: `cryptography`,
OpenSSL). Driven by the `python` section of the ledgix-bench harness (bench/).

Usage: bench_verify.py VAULT_URL BUNDLE_JSON_FILE

Fetches the Vault's JWKS once (as a client would), validates the bundle into the SDK's model
once (the Rust side also verifies an already parsed bundle), checks it verifies intact, prints
{"ready": true, "version": "0.4.0", "signatures": N}, then for each line N read on stdin
verifies the bundle N times and runs the raw verifications N times and prints
{"verify_us": per call, "crypto_us": per call}; exits at end of input.
"""

import base64
import json
import sys
import time
from importlib.metadata import version

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ledgix_python import LedgixClient, VaultConfig
from ledgix_python.models import LedgerProofBundle


def b64(s):
    s = s.rstrip("=")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def crypto_floor(bundle, jwks):
    """(key, signature, payload) of every signature the bundle carries, keys built once."""
    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(b64(k["x"])) for k in jwks["keys"]}
    signed = [(bundle["event"]["receipt_key_id"], bundle["event"]["receipt_signature"],
               bundle["event"]["receipt_payload"])]
    checkpoints = [bundle["inclusion"]["checkpoint"]]
    if bundle.get("consistency"):
        checkpoints.append(bundle["consistency"]["to_checkpoint"])
    for c in checkpoints:
        signed.append((c["signer_key_id"], c["checkpoint_signature"], c["checkpoint_payload"]))
    return [(keys[kid], b64(sig), b64(payload)) for kid, sig, payload in signed]


def main():
    url, path = sys.argv[1], sys.argv[2]
    raw = open(path, encoding="utf-8").read()
    client = LedgixClient(VaultConfig(vault_url=url, agent_id="bench-agent"))
    jwks = client.fetch_jwks()
    bundle = LedgerProofBundle.model_validate_json(raw)
    result = client.verify_ledger_proof_bundle(bundle)
    if not result.intact:
        sys.exit(f"bench_verify.py: the bundle does not verify: {result.error}")
    floor = crypto_floor(json.loads(raw), jwks)
    print(json.dumps({"ready": True, "version": version("ledgix-python"),
                      "signatures": len(floor)}), flush=True)
    for line in sys.stdin:
        count = int(line)
        started = time.perf_counter()
        for _ in range(count):
            if not client.verify_ledger_proof_bundle(bundle).intact:
                sys.exit("bench_verify.py: the bundle stopped verifying")
        verify_us = (time.perf_counter() - started) * 1e6 / count
        started = time.perf_counter()
        for _ in range(count):
            for key, sig, payload in floor:
                key.verify(sig, payload)
        crypto_us = (time.perf_counter() - started) * 1e6 / count
        print(json.dumps({"verify_us": verify_us, "crypto_us": crypto_us}), flush=True)


if __name__ == "__main__":
    main()
