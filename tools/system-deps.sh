#!/usr/bin/env bash
# Install the Debian packages secops and its tests need, only those missing. Safe to run again.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have nmap || need+=(nmap)
have /usr/sbin/sshd || need+=(openssh-server)
have ssh-keygen || need+=(openssh-client)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
have ip || need+=(iproute2)
have runuser || need+=(util-linux)
have sudo || need+=(sudo)
have ps || need+=(procps)
have nft || have /usr/sbin/nft || need+=(nftables)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
# Reports: headless Chromium (HTML tests), pdftotext, fonts with Vietnamese glyphs, what WeasyPrint needs.
have /usr/bin/chromium || need+=(chromium)
have pdftotext || need+=(poppler-utils)
for deb in fonts-dejavu-core fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b; do
  dpkg -s "$deb" >/dev/null 2>&1 || need+=("$deb")
done
for extra in ${SECOPS_EXTRA_DEBS:-}; do dpkg -s "$extra" >/dev/null 2>&1 || need+=("$extra"); done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
