#!/usr/bin/env bash
# What the ecosystem tests need beyond Python and npm packages (issue 14), for
# .ci/run to call before the README's test command:
#   - a JRE: Specmatic's npm package runs its jar (tests/integrations/peers);
#   - podman, runc, iptables and debootstrap: the image is built FROM a Debian
#     rootfs and run (tests/integrations/container; podman.py says why runc).
# The npm tools (openapi-typescript, @hey-api/openapi-ts, typescript, specmatic,
# dredd) come with `npm ci`; openapi-python-client with `pip install -e '.[dev]'`.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v podman >/dev/null 2>&1 || missing+=(podman)
[ -x /usr/sbin/runc ] || [ -x /usr/bin/runc ] || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)  # podman's bridge publishes ports with it
if [ ${#missing[@]} -gt 0 ]; then
  echo "--- ecosystem: apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "--- ecosystem: $(java -version 2>&1 | head -1); $(podman --version); $(runc --version | head -1)"
