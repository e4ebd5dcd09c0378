#!/usr/bin/env bash
# Cross-client check: the official Python SDK (ledgix-python 0.4.0, from PyPI) against the
# standalone mock Vault (`ledgix-mock-vault`). Skips, with a message, when python3 is missing
# or PyPI cannot be reached; fails when the SDK and the mock disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/python_peer
target="${CARGO_TARGET_DIR:-target}"
venv="$target/python-peer-venv"
peer="ledgix-python==0.4.0"

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-peer: SKIP (python3 not found)"
    exit 0
fi
mkdir -p "$target"

if ! "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("ledgix-python") != "0.4.0")' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        echo "python-peer: SKIP (python3 cannot create a virtual environment: is python3-venv installed?)"
        exit 0
    fi
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --timeout 30 --retries 1 "$peer" >"$target/python-peer-pip.log" 2>&1; then
        echo "python-peer: SKIP (pip could not install $peer; PyPI unreachable? see $target/python-peer-pip.log)"
        rm -rf "$venv"
        exit 0
    fi
fi

cargo build --quiet --features mock --bin ledgix-mock-vault
bin="$target/debug/ledgix-mock-vault"
api_key="python-peer-key-$$"
out="$target/python-peer-vault.out"
err="$target/python-peer-vault.err"

"$bin" --listen 127.0.0.1:0 --api-key "$api_key" --rules "$here/rules.json" \
    --seal-every 100ms --seed python-peer >"$out" 2>"$err" &
vault_pid=$!
stop_vault() {
    if kill -0 "$vault_pid" 2>/dev/null; then
        kill -INT "$vault_pid" 2>/dev/null || true
        wait "$vault_pid" 2>/dev/null || true
    fi
}
trap stop_vault EXIT

url=""
for _ in $(seq 1 300); do
    url="$(sed -n 's/^ledgix-mock-vault listening on //p' "$out")"
    [ -n "$url" ] && break
    if ! kill -0 "$vault_pid" 2>/dev/null; then
        echo "python-peer: the mock Vault exited before listening:" >&2
        cat "$err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "python-peer: the mock Vault did not print its URL within 30 s" >&2
    exit 1
fi
echo "python-peer: mock Vault at $url (pid $vault_pid)"

"$venv/bin/python" "$here/check.py" "$url" "$api_key"

# Ctrl-C must stop it cleanly (exit status 0).
kill -INT "$vault_pid"
status=0
wait "$vault_pid" || status=$?
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "python-peer: the mock Vault exited with status $status on Ctrl-C" >&2
    cat "$err" >&2
    exit 1
fi
echo "python-peer: the mock Vault stopped cleanly on Ctrl-C"
