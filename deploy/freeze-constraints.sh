#!/usr/bin/env bash
# Write deploy/constraints.txt from .venv: every distribution installed there, at its
# version (the project itself, installed editable, left out), and the build backend that
# builds the project's wheel in the image. The image installs pyproject.toml's runtime
# dependencies under these constraints, so a build gets the versions CI tested. Run it
# after a change of dependencies in pyproject.toml and `bash deploy/setup.sh --test`;
# deploy/check.sh fails while a dependency has no pin here or a pin outside its range.
set -euo pipefail
cd "$(dirname "$0")/.."
out=deploy/constraints.txt
# The build backend's pins are kept as they are (bump them here by hand).
backend=$(grep -E '^(setuptools|wheel)==' "$out" 2>/dev/null || printf 'setuptools==84.2.1\nwheel==0.48.0\n')
frozen=$(.venv/bin/pip freeze --exclude-editable --disable-pip-version-check)
{
  echo "# Versions for reproducible installs (pip --constraint): written by"
  echo "# deploy/freeze-constraints.sh from the tested .venv; do not edit by hand."
  echo "$frozen"
  echo "# The build backend of pyproject.toml's [build-system], for the image's wheel stage."
  echo "$backend"
} > "$out"
echo "wrote $out ($(echo "$frozen" | wc -l) pins)"
