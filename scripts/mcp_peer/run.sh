#!/usr/bin/env bash
# Outside check: the official MCP Python SDK (`mcp`, from PyPI, in a venv under target/) as the
# client of examples/mcp_server over stdio. tools/list must name the three tools, the approved
# calls return results, the denied stripe_refund an error result that says it was denied and
# gives the request_id. Skips loudly when python3 or PyPI is missing; fails when they disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/mcp_peer
. scripts/lib/peer_venv.sh
peer_venv mcp-peer mcp 2.3.0 || exit 0

cargo build --quiet --example mcp_server --features rmcp,mock
exe="$target/debug/examples/mcp_server"

"$venv/bin/python" "$here/check.py" "$exe"
