#!/usr/bin/env bash
# Build cost of ledgix for a user's app (BENCHMARKS.md, "Build cost"): the same small app
# (reqwest + tokio + serde_json) without and with `ledgix` (a path dependency on this
# checkout, default features), each built cold (`cargo build`, debug) in a fresh target
# directory, one after the other in one run. Prints seconds, artifacts and the ratio per round.
#
#   scripts/build_cost.sh [ROUNDS] [WORK_DIR]      # defaults: 1, a fresh temporary directory
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-1}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"

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
make_app with "ledgix = { path = \"$repo\" }"
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

for round in $(seq 1 "$rounds"); do
    declare -A took
    for app in base with; do
        rm -rf "target-$app"
        start=$(date +%s.%N)
        (cd "$app" && CARGO_TARGET_DIR="../target-$app" cargo build -q)
        end=$(date +%s.%N)
        took[$app]=$(echo "$end - $start" | bc)
        units=$(find "target-$app/debug/.fingerprint" -mindepth 1 -maxdepth 1 -type d | wc -l)
        echo "round $round: $app ${took[$app]} s, $units build units"
    done
    echo "round $round: ratio $(echo "scale=2; ${took[with]} / ${took[base]}" | bc)"
done
