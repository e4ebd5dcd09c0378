#!/usr/bin/env bash
# Outside check: the official MCP Python SDK (`mcp`, from PyPI, in a venv under target/) as the
# client of examples/mcp_server over stdio. tools/list must name the three tools, the approved
# calls return results, the denied stripe_refund an error result that says it was denied and
# gives the request_id. Skips loudly when python3 or PyPI is missing; fails when they disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/mcp_peer
target="${CARGO_TARGET_DIR:-target}"
venv="$target/mcp-peer-venv"
version="2.3.0"

. scripts/lib/peer_venv.sh
peer_venv mcp-peer "$venv" mcp "$version" || exit 0

cargo build --quiet --example mcp_server --features rmcp,mock
exe="$target/debug/examples/mcp_server"

"$venv/bin/python" "$here/check.py" "$exe"
