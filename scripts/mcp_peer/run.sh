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
peer="mcp==$version"

if ! command -v python3 >/dev/null 2>&1; then
    echo "mcp-peer: SKIP (python3 not found) -- the MCP Python SDK check did NOT run"
    exit 0
fi
mkdir -p "$target"

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$version')" 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        echo "mcp-peer: SKIP (python3 cannot create a virtual environment: is python3-venv installed?) -- the check did NOT run"
        exit 0
    fi
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --timeout 30 --retries 1 "$peer" >"$target/mcp-peer-pip.log" 2>&1; then
        echo "mcp-peer: SKIP (pip could not install $peer; PyPI unreachable? see $target/mcp-peer-pip.log) -- the check did NOT run"
        rm -rf "$venv"
        exit 0
    fi
fi

cargo build --quiet --example mcp_server --features rmcp,mock
exe="$target/debug/examples/mcp_server"

"$venv/bin/python" "$here/check.py" "$exe"
