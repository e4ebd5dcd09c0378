#!/usr/bin/env bash
# Cross-client check: the official TypeScript SDK (ledgix-ts, its LedgixClient unmodified)
# against the standalone mock Vault (`ledgix-mock-vault`), under canonical versions 1 and 2.
# ledgix-ts's whole-ledger verifier and its bundle verifier must accept every ledger and every
# bundle; any rejection fails the run (exit 1). See check.mjs for what is exercised.
#
# Where ledgix-ts comes from, first that works:
#   1. the npm registry, when it is published there (`npm view ledgix-ts`);
#   2. LEDGIX_TS_SRC=<a ledgix-ts source checkout>: copied under target/ and built there with
#      its own lock file (`npm ci`, `npm run build`; dependencies from the npm registry).
#      Its code is never committed to this repository.
# Neither (ledgix-ts 0.4.0 is not on npm, and CI reaches package registries only): SKIP,
# loudly, exit 0. No node/npm: SKIP, loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/ts_peer
target="${CARGO_TARGET_DIR:-target}"
work="$target/ts-peer"

skip() {
    echo "ts-peer: ******************************************************************"
    echo "ts-peer: SKIPPED, NOT RUN: $*"
    echo "ts-peer: ******************************************************************"
    exit 0
}

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    skip "node $(node --version) is too old (ledgix-ts needs WebCrypto Ed25519: node 20 or newer)"
mkdir -p "$work"

entry=""
source_note=""
registry_log="$work/npm-view.log"
if version="$(npm view ledgix-ts version 2>"$registry_log")" && [ -n "$version" ]; then
    if [ ! -f "$work/npm/node_modules/ledgix-ts/dist/index.js" ] ||
        [ "$(cat "$work/npm/version" 2>/dev/null)" != "$version" ]; then
        rm -rf "$work/npm"
        npm install --prefix "$work/npm" --no-audit --no-fund "ledgix-ts@$version" \
            >"$work/npm-install.log" 2>&1 ||
            { cat "$work/npm-install.log" >&2; echo "ts-peer: npm install ledgix-ts@$version failed" >&2; exit 1; }
        echo "$version" >"$work/npm/version"
    fi
    entry="$work/npm/node_modules/ledgix-ts/dist/index.js"
    source_note="ledgix-ts $version from the npm registry"
elif [ -n "${LEDGIX_TS_SRC:-}" ]; then
    [ -f "$LEDGIX_TS_SRC/package.json" ] && [ -f "$LEDGIX_TS_SRC/src/client.ts" ] ||
        { echo "ts-peer: LEDGIX_TS_SRC=$LEDGIX_TS_SRC is not a ledgix-ts checkout" >&2; exit 1; }
    name="$(node -p "require('$LEDGIX_TS_SRC/package.json').name + '@' + require('$LEDGIX_TS_SRC/package.json').version")"
    stamp="$(cd "$LEDGIX_TS_SRC" && find src package.json package-lock.json tsup.config.ts tsconfig.json \
        tsconfig.build.json -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
    if [ ! -f "$work/src/dist/index.js" ] || [ "$(cat "$work/src.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$work/src" "$work/src.stamp"
        mkdir -p "$work/src"
        (cd "$LEDGIX_TS_SRC" && tar --exclude=./node_modules --exclude=./dist -cf - .) | tar -xf - -C "$work/src"
        echo "ts-peer: building $name from $LEDGIX_TS_SRC (npm ci, npm run build)"
        (cd "$work/src" && npm ci --no-audit --no-fund && npm run build) >"$work/build.log" 2>&1 ||
            { cat "$work/build.log" >&2; echo "ts-peer: building $name failed" >&2; exit 1; }
        echo "$stamp" >"$work/src.stamp"
    fi
    entry="$work/src/dist/index.js"
    source_note="$name built from the source at $LEDGIX_TS_SRC"
elif grep -q "E404" "$registry_log"; then
    skip "ledgix-ts is not published on the npm registry, and LEDGIX_TS_SRC is not set" \
        "(its source is on GitHub only: set LEDGIX_TS_SRC to a checkout to run this check)"
else
    skip "the npm registry could not be asked about ledgix-ts, and LEDGIX_TS_SRC is not set" \
        "(see $registry_log)"
fi
echo "ts-peer: $source_note"

. scripts/lib/mock_vault.sh
mock_vault_build
trap mock_vault_kill EXIT
for version in 1 2; do
    api_key="ts-peer-key-$$-$version"
    mock_vault_start "ts-peer-v$version" --api-key "$api_key" --rules "$here/rules.json" \
        --seal-every 100ms --seed "ts-peer-$version" --canonical-version "$version"
    if ! node "$here/check.mjs" "$entry" "$MOCK_VAULT_URL" "$api_key" "$version"; then
        echo "ts-peer: ledgix-ts rejected what the mock Vault (canonical_version $version) served;" \
            "its decisions were:" >&2
        cat "$MOCK_VAULT_OUT" >&2
        exit 1
    fi
    mock_vault_stop "ts-peer-v$version"
done
trap - EXIT
echo "ts-peer: ledgix-ts verified every ledger and every bundle under canonical versions 1 and 2"
