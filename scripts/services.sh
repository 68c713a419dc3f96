#!/usr/bin/env bash
# Start the local services sayclaw's tests and demo need, installing Debian packages if missing:
# MariaDB (MySQL-compatible) on 127.0.0.1:3306 (root, empty password) and PostgreSQL on
# 127.0.0.1:5432 (postgres, trust). Idempotent. Loopback only.
# Usage: bash scripts/services.sh [--lab]   (--lab also prepares Docker, sshd and friends; see scripts/lab.sh)
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=0
need_pkg() { # need_pkg CMD PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  shift
  if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- MariaDB ---
need_pkg mariadbd mariadb-server mariadb-client
if ! mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
  $SUDO mkdir -p /run/mysqld && $SUDO chown mysql:mysql /run/mysqld 2>/dev/null || true
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.5; done
  # A fresh Debian MariaDB lets root in by unix socket only: allow root over TCP on loopback, no password.
  if ! mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
    $SUDO mariadb -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(''); CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" || true
  fi
fi
mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null || { echo "MariaDB is not reachable on 127.0.0.1:3306 as root" >&2; exit 1; }

# --- PostgreSQL ---
need_pkg psql postgresql postgresql-client
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  [ -n "$ver" ] || { echo "no PostgreSQL cluster found under /etc/postgresql" >&2; exit 1; }
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -q && break; sleep 0.5; done
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
      $SUDO sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 || true
      sleep 1
    fi
  fi
fi
psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 as postgres" >&2; exit 1; }

if [ "${1:-}" = "--lab" ] && [ -f "$(dirname "$0")/lab.sh" ]; then
  bash "$(dirname "$0")/lab.sh" install
fi
echo "services: MariaDB 127.0.0.1:3306 and PostgreSQL 127.0.0.1:5432 are up"
