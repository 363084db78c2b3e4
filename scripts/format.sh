#!/usr/bin/env bash
# clang-format over our C++ sources: --check (default) fails on any diff; --fix rewrites.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---check}
if ! command -v clang-format >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-format >/dev/null
  else
    echo "clang-format missing: sudo apt-get install -y clang-format" >&2
    exit 1
  fi
fi
# Tracked files and new ones not yet added (a new file must not escape --fix and then fail CI).
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.cc')
[[ ${#files[@]} -eq 0 ]] && exit 0
if [[ "$mode" == "--fix" ]]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
