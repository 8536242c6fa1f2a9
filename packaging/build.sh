#!/usr/bin/env bash
# Build a one-folder bundle in dist/luma-studio with PyInstaller.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup
.venv/bin/pip install -q -c constraints.txt pyinstaller
.venv/bin/pyinstaller --noconfirm --distpath dist --workpath build packaging/luma.spec
echo "built dist/luma-studio/luma"
