# Shared by the peer checks (scripts/*_peer/run.sh): a Python venv under the cargo target
# directory holding one pinned package from PyPI. Source it from the repository root.
#
#   peer_venv TAG DIST VERSION || exit 0
#
# Sets $target (CARGO_TARGET_DIR or target) and $venv ($target/TAG-venv). Returns 0 when the
# venv has DIST==VERSION (installing it when missing); otherwise prints
# "TAG: SKIP (why) -- the check did NOT run" and returns 1 (no python3, no venv module, PyPI
# unreachable: the pip log is $target/TAG-pip.log).
peer_venv() {
    local tag="$1" dist="$2" version="$3"
    target="${CARGO_TARGET_DIR:-target}"
    venv="$target/$tag-venv"
    if ! command -v python3 >/dev/null 2>&1; then
        echo "$tag: SKIP (python3 not found) -- the check did NOT run"
        return 1
    fi
    mkdir -p "$target"
    if "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$dist') != '$version')" 2>/dev/null; then
        return 0
    fi
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        echo "$tag: SKIP (python3 cannot create a virtual environment: is python3-venv installed?) -- the check did NOT run"
        return 1
    fi
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --timeout 30 --retries 1 "$dist==$version" >"$target/$tag-pip.log" 2>&1; then
        echo "$tag: SKIP (pip could not install $dist==$version; PyPI unreachable? see $target/$tag-pip.log) -- the check did NOT run"
        rm -rf "$venv"
        return 1
    fi
}
