#!/usr/bin/env bash
# Cross-client check: the official Python SDK (ledgix-python 0.4.0, from PyPI) against the
# standalone mock Vault (`ledgix-mock-vault`). Skips, with a message, when python3 is missing
# or PyPI cannot be reached; fails when the SDK and the mock disagree.
# `run.sh --venv-only` only prepares the venv (the ledgix-bench harness, bench/, uses it).
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/python_peer
. scripts/lib/peer_venv.sh
peer_venv python-peer ledgix-python 0.4.0 || exit 0

if [ "${1:-}" = "--venv-only" ]; then
    echo "python-peer: ledgix-python 0.4.0 ready in $venv"
    exit 0
fi

. scripts/lib/mock_vault.sh
mock_vault_build
api_key="python-peer-key-$$"
trap mock_vault_kill EXIT
mock_vault_start python-peer --api-key "$api_key" --rules "$here/rules.json" \
    --seal-every 100ms --seed python-peer

"$venv/bin/python" "$here/check.py" "$MOCK_VAULT_URL" "$api_key"

mock_vault_stop python-peer
trap - EXIT
