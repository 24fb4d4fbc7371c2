#!/bin/sh
# Prepares what the test suite needs beyond Swift, idempotently:
# a Python virtualenv at <repo>/.venv-test with `noiseprotocol` 0.3.1, the independent Noise
# implementation that Tests/HarkNoiseTests/InteropTests.swift talks to.
# `--system-site-packages` reuses the system-wide `cryptography` it depends on.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv-test"
py="$venv/bin/python3"

if [ ! -x "$py" ]; then
    echo "creating $venv"
    python3 -m venv --system-site-packages "$venv"
fi

if "$py" -c 'import noise.connection' 2>/dev/null; then
    echo "noiseprotocol already importable in $venv"
else
    echo "installing noiseprotocol==0.3.1 into $venv"
    "$py" -m pip install --quiet 'noiseprotocol==0.3.1'
fi

"$py" -c 'import noise.connection, cryptography; print("ok: noiseprotocol ready at", noise.__file__)'
