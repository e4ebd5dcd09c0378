# Shared by the peer checks (scripts/*_peer/run.sh): build, start and stop the standalone mock
# Vault. Source it from the repository root with $target set (the cargo target directory).
#
#   mock_vault_build
#   mock_vault_start NAME [ledgix-mock-vault options]   # sets MOCK_VAULT_URL and MOCK_VAULT_PID
#   mock_vault_stop NAME      # Ctrl-C; fails unless it exits cleanly (status 0)
#   mock_vault_kill           # for an EXIT trap: stops it if it still runs, status ignored
#
# Its output goes to $target/NAME-vault.out (the URL line, then one line per decision) and
# $target/NAME-vault.err.

mock_vault_build() {
    cargo build --quiet --features mock --bin ledgix-mock-vault
}

mock_vault_start() {
    local name=$1
    shift
    MOCK_VAULT_OUT="$target/$name-vault.out"
    MOCK_VAULT_ERR="$target/$name-vault.err"
    "$target/debug/ledgix-mock-vault" --listen 127.0.0.1:0 "$@" \
        >"$MOCK_VAULT_OUT" 2>"$MOCK_VAULT_ERR" &
    MOCK_VAULT_PID=$!
    MOCK_VAULT_URL=""
    for _ in $(seq 1 300); do
        MOCK_VAULT_URL="$(sed -n 's/^ledgix-mock-vault listening on //p' "$MOCK_VAULT_OUT")"
        if [ -n "$MOCK_VAULT_URL" ]; then
            echo "$name: mock Vault at $MOCK_VAULT_URL (pid $MOCK_VAULT_PID)"
            return 0
        fi
        if ! kill -0 "$MOCK_VAULT_PID" 2>/dev/null; then
            echo "$name: the mock Vault exited before listening:" >&2
            cat "$MOCK_VAULT_ERR" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$name: the mock Vault did not print its URL within 30 s" >&2
    return 1
}

mock_vault_kill() {
    if [ -n "${MOCK_VAULT_PID:-}" ] && kill -0 "$MOCK_VAULT_PID" 2>/dev/null; then
        kill -INT "$MOCK_VAULT_PID" 2>/dev/null || true
        wait "$MOCK_VAULT_PID" 2>/dev/null || true
    fi
    MOCK_VAULT_PID=""
}

mock_vault_stop() {
    local name=$1 status=0
    kill -INT "$MOCK_VAULT_PID"
    wait "$MOCK_VAULT_PID" || status=$?
    MOCK_VAULT_PID=""
    if [ "$status" -ne 0 ]; then
        echo "$name: the mock Vault exited with status $status on Ctrl-C" >&2
        cat "$MOCK_VAULT_ERR" >&2
        return 1
    fi
    echo "$name: the mock Vault stopped cleanly on Ctrl-C"
}
