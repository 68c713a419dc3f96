#!/usr/bin/env bash
# The test lab's system packages: a Docker engine, OpenSSH server, busybox for the offline test
# image, ansible-core (ansible-inventory), prometheus (promtool) and tmux (the prompts tested in
# a real terminal). Loopback only.
# Usage: bash scripts/lab.sh install     (packages)
#        bash scripts/lab.sh up [N]      (start N lab servers until Ctrl-C; prints an env file to source)
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
case "${1:-install}" in
  install)
    missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    [ -x /bin/busybox ] && /bin/busybox --list | grep -q httpd || missing+=(busybox-static)
    command -v ansible-inventory >/dev/null 2>&1 || missing+=(ansible-core)
    command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    command -v tmux >/dev/null 2>&1 || missing+=(tmux)
    if [ ${#missing[@]} -gt 0 ]; then
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # Debian starts services on install where it can; the lab runs its own instances instead.
    echo "lab: packages present (dockerd, sshd, busybox, ansible-inventory, promtool, tmux)"
    ;;
  up)
    # a lab for manual use: N sshd + dockerd on 127.0.0.1, registered in fresh databases
    cd "$(dirname "$0")/.." && exec node bench/servers.mjs --up "${2:-3}"
    ;;
  *) echo "usage: $0 install | up [N]" >&2; exit 2 ;;
esac
