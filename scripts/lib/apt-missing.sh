# Sourced by the install scripts: install the Debian packages that are missing, and only
# those. Usage: apt_install_missing WHO "what happens without root" PKG…
#   WHO prefixes the messages; without root nothing is installed and the function says
#   what would have been, then returns 0 (the caller's tests skip with a reason).
apt_install_missing() {
  local who="$1" without_root="$2"
  shift 2
  local need=() pkg
  for pkg in "$@"; do
    # dpkg -s succeeds for removed-but-configured packages too; check the status line.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      need+=("$pkg")
    fi
  done
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: not root; not installing ${need[*]} ($without_root)" >&2
    return 0
  fi
  echo "$who: installing ${need[*]}" >&2
  # Another installer (or unattended-upgrades) may hold the dpkg lock: wait rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
}
