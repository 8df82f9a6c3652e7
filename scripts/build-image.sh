#!/usr/bin/env bash
# Builds the histo container image from the Dockerfile: publishes the CLI self-contained for linux-x64 into
# .build/image/histo (libLibTorchSharp.so patched for Debian 12's libstdc++), then runs podman build (docker build
# when podman is missing; HISTO_CONTAINER_TOOL overrides).
# Usage: scripts/build-image.sh [TAG] [build options, e.g. --build-arg BASE=IMAGE]    (TAG default: histo:latest)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
tag="${1:-histo:latest}"
[ $# -gt 0 ] && shift
tool="${HISTO_CONTAINER_TOOL:-$(command -v podman || command -v docker || true)}"
if [ -z "$tool" ]; then
  echo "error: neither podman nor docker found (apt-get install podman, or set HISTO_CONTAINER_TOOL)" >&2
  exit 1
fi
publish="$root/.build/image/histo"
rm -rf "$publish"
echo "publishing histo into $publish..." >&2
# Its own intermediate folder (--artifacts-path), so the self-contained restore leaves the projects' obj/ (what ./histo
# and the tests build from) alone.
dotnet publish "$root/src/Histo.Cli/Histo.Cli.csproj" -c Release -r linux-x64 --self-contained -p:HistoLibTorchSharpPatch=always \
  --artifacts-path "$root/.build/image/artifacts" -o "$publish" --nologo -v q -clp:ErrorsOnly
echo "building image $tag with $tool..." >&2
"$tool" build -t "$tag" -f "$root/Dockerfile" "$@" "$root"
