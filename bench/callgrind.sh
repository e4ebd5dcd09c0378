#!/usr/bin/env bash
# Where a guarded call's extra CPU goes: N guarded calls and N floor calls, each under
# callgrind (instructions executed, no timing noise at all), against a mock Vault in a child
# process that runs natively (callgrind does not follow children). The setup of both runs is
# the same, so the difference of their totals over N is what one guarded call costs over the
# floor, in instructions; the table splits the guard's run by the SDK's parts (inclusive
# counts of the entry function of each part, per call).
#
# Usage: bench/callgrind.sh [N]   (default 2000; needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-2000}"
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found (apt-get install valgrind)"; exit 1; }
cargo build --release -q -p ledgix-bench
target="${CARGO_TARGET_DIR:-target}"
out="$target/callgrind"
mkdir -p "$out"
for kind in guard floor; do
    echo "callgrind.sh: $calls $kind calls under callgrind..." >&2
    valgrind --tool=callgrind --callgrind-out-file="$out/$kind.out" \
        "$target/release/bench" --calls "$kind" "$calls" 2>"$out/$kind.log" \
        || { cat "$out/$kind.log" >&2; exit 1; }
    callgrind_annotate --inclusive=yes --threshold=100 "$out/$kind.out" >"$out/$kind.txt" 2>/dev/null
done

# The program total and, per part, the largest inclusive count of a function matching its
# pattern (its outermost entry), per call.
awk -v calls="$calls" '
function count(s) { gsub(",", "", s); return s + 0 }
FNR == 1 { file++ }
/PROGRAM TOTALS/ { total[file] = count($1) }
$1 ~ /^[0-9,]+$/ && $2 ~ /^\(/ {
    line = $0
    for (p = 1; p <= n; p++) {
        if (line ~ pattern[p]) {
            c = count($1)
            if (c > best[file, p]) best[file, p] = c
        }
    }
}
BEGIN {
    n = 0
    name[++n] = "ToolCall::arg (arguments to JSON values)";    pattern[n] = "ToolCall::arg|to_tool_arg"
    name[++n] = "request JSON body (serde_json::to_vec)";      pattern[n] = "serialize.*ClearanceRequest|ClearanceRequest.*serialize"
    name[++n] = "Idempotency-Key (random::uuid_v4)";           pattern[n] = "random::uuid_v4"
    name[++n] = "answer parse (ClearanceResponse::from_json)"; pattern[n] = "ClearanceResponse::from_json"
    name[++n] = "token: JWS split, header, base64 (jws::parse)"; pattern[n] = "token::jws::parse"
    name[++n] = "token: verify (signature + claims)";          pattern[n] = "token::verify_compact"
    name[++n] = "  Ed25519 verify_strict";                     pattern[n] = "verify_strict"
    name[++n] = "  claims checks";                             pattern[n] = "token::claims::check"
    name[++n] = "token: canonical JSON + SHA-256 of args";     pattern[n] = "tool_args_hash"
    name[++n] = "token: replay store (first_use)";             pattern[n] = "record_use|first_use|ReplayCache::record_until"
    name[++n] = "JWKS cache lookup (keys_for)";                pattern[n] = "keys_for"
    name[++n] = "task-local scope (TaskLocalFuture)";          pattern[n] = "TaskLocalFuture|LocalKey.*scope"
    name[++n] = "tracing (spans, records, events)";            pattern[n] = "tracing::span::Span::|tracing_core::|tracing::__macro_support"
}
END {
    printf "%-48s %12s %12s\n", "instructions per call (callgrind, " calls " calls)", "guard", "floor"
    printf "%-48s %12.0f %12.0f   ratio %.3f\n", "whole process", total[1] / calls, total[2] / calls, total[1] / total[2]
    printf "%-48s %12.0f\n", "guard - floor", (total[1] - total[2]) / calls
    for (p = 1; p <= n; p++) {
        printf "%-48s %12.0f %12.0f\n", name[p], best[1, p] / calls, best[2, p] / calls
        if (name[p] ~ /verify_strict/)
            printf "%-48s %12.0f\n", "  claims parse + checks (verify - verify_strict)", (best[1, p - 1] - best[1, p]) / calls
    }
    print "(inclusive counts of the outermost matching function, nested parts indented;"
    print " a part inlined into its caller shows 0; setup and warm-up are in both totals)"
}' "$out/guard.txt" "$out/floor.txt"
echo "callgrind.sh: profiles in $out/{guard,floor}.out (callgrind_annotate, kcachegrind)" >&2
