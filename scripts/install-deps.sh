#!/usr/bin/env bash
# Installs the Debian packages Histo needs, once. Idempotent: packages already present are not touched.
# Usage: scripts/install-deps.sh runtime|test|bench|image   (image: the runtime packages, for the Dockerfile; no .NET SDK needed)
set -euo pipefail
profile="${1:-runtime}"
# libatomic1 and libdrm2: needed by OpenCV's native library, not pulled in by libgtk-3-0 without recommends.
runtime=(libopenslide0 openslide-tools libtcmalloc-minimal4 libgtk-3-0 libatomic1 libdrm2)
test_extra=(chromium libvips-tools)
bench_extra=(libvips-tools python3-openslide python3-torch python3-torchvision python3-onnx python3-numpy)
case "$profile" in
  runtime | image) want=("${runtime[@]}") ;;
  test) want=("${runtime[@]}" "${test_extra[@]}") ;;
  bench) want=("${runtime[@]}" "${bench_extra[@]}") ;;
  *) echo "error: unknown profile '$profile' (runtime, test, bench or image)" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
fi
if [ "$profile" != image ] && ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi
