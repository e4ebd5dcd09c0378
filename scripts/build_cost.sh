#!/usr/bin/env bash
# Build cost of ledgix for a user's app (BENCHMARKS.md, "Build cost"): the same small app
# (reqwest + tokio + serde_json) without and with `ledgix` (default features), each built cold
# (`cargo build`, debug) in a fresh target directory, one after the other in one run; each
# round alternates which goes first. Prints wall seconds, CPU seconds (user + system) and build
# units per build, the ratios per round, and their medians.
#
# `ledgix` comes as a user gets it from crates.io: a non-local dependency (a git dependency on
# this checkout's committed HEAD), so it builds without incremental compilation and with lints
# capped. LEDGIX_BUILD_COST_SOURCE=path uses a path dependency on the working tree instead
# (uncommitted changes count; ledgix then builds incrementally, as a local crate does).
#
#   scripts/build_cost.sh [ROUNDS] [WORK_DIR]      # defaults: 1, a fresh temporary directory
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-1}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"

if [ "${LEDGIX_BUILD_COST_SOURCE:-git}" = path ]; then
    ledgix_dep="ledgix = { path = \"$repo\" }"
else
    ledgix_dep="ledgix = { git = \"file://$repo\", rev = \"$(git -C "$repo" rev-parse HEAD)\" }"
fi
echo "ledgix: $ledgix_dep"

make_app() { # name, extra dependency line
    mkdir -p "$1/src"
    cat > "$1/Cargo.toml" <<TOML
[package]
name = "app"
version = "0.1.0"
edition = "2024"

[dependencies]
reqwest = { version = "0.13", features = ["json"] }
tokio = { version = "1", features = ["full"] }
serde_json = "1"
$2
TOML
}
make_app base ""
make_app with "$ledgix_dep"
cat > base/src/main.rs <<'RS'
async fn refund(amount: u64) -> Result<String, reqwest::Error> {
    let body = serde_json::json!({ "amount": amount });
    let resp = reqwest::Client::new().post("https://example.invalid/refund").json(&body).send().await?;
    resp.text().await
}

#[tokio::main]
async fn main() {
    println!("{:?}", refund(5).await.is_ok());
}
RS
cat > with/src/main.rs <<'RS'
#[ledgix::guarded(policy = "refund-policy")]
async fn refund(amount: u64) -> Result<String, ledgix::Error> {
    let body = serde_json::json!({ "amount": amount });
    let sent = reqwest::Client::new().post("https://example.invalid/refund").json(&body).send();
    let resp = sent.await.map_err(|e| ledgix::Error::ToolArgs(e.to_string()))?;
    resp.text().await.map_err(|e| ledgix::Error::ToolArgs(e.to_string()))
}

#[tokio::main]
async fn main() {
    println!("{:?}", refund(5).await.is_ok());
}
RS
for app in base with; do (cd "$app" && cargo generate-lockfile -q); done
echo "crates in the lock file: base $(grep -c '^name = ' base/Cargo.lock), with ledgix $(grep -c '^name = ' with/Cargo.lock)"

ratios=()
cpu_ratios=()
for round in $(seq 1 "$rounds"); do
    declare -A wall cpu
    order="base with"
    if [ $((round % 2)) -eq 0 ]; then order="with base"; fi
    for app in $order; do
        rm -rf "target-$app"
        TIMEFORMAT="%R %U %S"
        if ! { time (cd "$app" && CARGO_TARGET_DIR="../target-$app" cargo build -q 2>"../build-$app.log"); } 2>"time-$app"; then
            cat "build-$app.log" >&2
            exit 1
        fi
        read -r real user sys <"time-$app"
        wall[$app]=$real
        cpu[$app]=$(echo "$user + $sys" | bc)
        units=$(find "target-$app/debug/.fingerprint" -mindepth 1 -maxdepth 1 -type d | wc -l)
        echo "round $round: $app ${wall[$app]} s wall, ${cpu[$app]} s CPU, $units build units"
    done
    ratio=$(echo "scale=3; ${wall[with]} / ${wall[base]}" | bc)
    cpu_ratio=$(echo "scale=3; ${cpu[with]} / ${cpu[base]}" | bc)
    ratios+=("$ratio")
    cpu_ratios+=("$cpu_ratio")
    echo "round $round: ratio $ratio wall, $cpu_ratio CPU"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median of $rounds round(s): ratio $(median "${ratios[@]}") wall, $(median "${cpu_ratios[@]}") CPU"
