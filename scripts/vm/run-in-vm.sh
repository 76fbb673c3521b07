#!/usr/bin/env bash
# Runs a command inside a throw-away x86-64 Linux VM under QEMU TCG, for hosts whose kernel
# cannot run 32-bit compatibility-mode code (see scripts/vm/README.md).
#
#   scripts/vm/run-in-vm.sh [options] -- COMMAND [ARGS...]
#
# The VM boots Debian 12's kernel with an initramfs holding busybox, the --copy'd files at their
# host paths, and the host's shared libraries they need. The command's stdout/stderr come back
# on this script's stdout/stderr; its exit status is this script's exit status.
set -euo pipefail

prog=run-in-vm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<'EOF'
usage: run-in-vm.sh [options] -- COMMAND [ARGS...]

Runs COMMAND in an x86-64 Linux VM (QEMU TCG, Debian 12 kernel) where 32-bit compat mode works.

  --copy PATH        copy a file or directory into the VM at the same absolute path
                     (repeatable); shared libraries of every ELF file in it come along
  --workdir DIR      directory the command runs in (default: the current directory if it is
                     copied, else /)
  --with-cmake       also copy cmake, ctest, cpack and /usr/share/cmake-X.Y (implied when
                     COMMAND is cmake, ctest or cpack)
  --env NAME=VALUE   set an environment variable for the command (repeatable)
  --merge            send the command's stderr to stdout inside the VM (keeps the order of
                     their lines; otherwise they travel on separate serial ports)
  --timeout SECONDS  kill the VM after this long, exit 124 (default 1800)
  --mem SIZE         guest memory (default 4G)
  --smp N            guest CPUs (default 2)
  --cpu MODEL        QEMU CPU model (default max,-smap: QEMU 7.2 TCG pops a user-mode
                     iretq/lret frame with supervisor rights, which SMAP turns into a
                     kernel oops; add ,-fsgsbase to mimic hosts without FSGSBASE)
  --append ARGS      extra kernel command-line arguments
  --compress KIND    initramfs compression: none (default; fastest under TCG), gzip, zstd
  --no-sanity        skip the sanity line (uname -a, 32-bit static program)
  -v, --verbose      show the VM's kernel console on stderr (and boot without 'quiet')
  -q, --quiet        print nothing of our own except errors
  --keep             keep the temporary directory (initramfs tree, serial logs)
  --refresh          fetch the kernel and busybox again
  -h, --help         this text

Environment: BT86_VM_CACHE (default /var/cache/bt86-vm, or ~/.cache/bt86-vm if that is not
writable) holds the kernel, busybox and helper programs; BT86_VM_KERNEL=FILE boots that kernel
image instead of Debian's.

Exit status: the command's; 124 if the timeout hit; 125 if the VM could not be set up or
ended without reporting a status.
EOF
}

die() { echo "$prog: error: $*" >&2; exit 125; }
quiet=0
info() { [ "$quiet" = 1 ] || echo "$prog: $*" >&2; }
warn() { echo "$prog: warning: $*" >&2; }

# ---------------------------------------------------------------- options
copies=() envs=() workdir="" with_cmake=0 timeout=1800 mem=4G smp=2 cpu=max,-smap append=""
compress=none sanity=1 verbose=0 keep=0 refresh=0 merge=0
need_arg() { [ $# -ge 2 ] || die "option $1 needs an argument (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --copy) need_arg "$@"; copies+=("$2"); shift 2 ;;
    --workdir) need_arg "$@"; workdir=$2; shift 2 ;;
    --with-cmake) with_cmake=1; shift ;;
    --merge) merge=1; shift ;;
    --env) need_arg "$@"; [[ $2 == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got '$2'"
      envs+=("$2"); shift 2 ;;
    --timeout) need_arg "$@"; timeout=$2; shift 2 ;;
    --mem) need_arg "$@"; mem=$2; shift 2 ;;
    --smp) need_arg "$@"; smp=$2; shift 2 ;;
    --cpu) need_arg "$@"; cpu=$2; shift 2 ;;
    --append) need_arg "$@"; append=$2; shift 2 ;;
    --compress) need_arg "$@"; compress=$2; shift 2 ;;
    --no-sanity) sanity=0; shift ;;
    -v|--verbose) verbose=1; shift ;;
    -q|--quiet) quiet=1; shift ;;
    --keep) keep=1; shift ;;
    --refresh) refresh=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { usage >&2; die "no command given (put it after --)"; }
cmd=("$@")
[[ $timeout =~ ^[0-9]+$ && $timeout -gt 0 ]] || die "--timeout wants a positive number of seconds"
case "$compress" in none|gzip|zstd) ;; *) die "--compress wants none, gzip or zstd" ;; esac
case "$(basename "${cmd[0]}")" in cmake|ctest|cpack) with_cmake=1 ;; esac

for t in readelf ldconfig apt-get dpkg-deb flock sha256sum realpath; do
  command -v "$t" >/dev/null || die "'$t' not found on this host"
done

# ---------------------------------------------------------------- temp dir, cleanup
exec 3>&2  # the real stderr, for traps that fire while stderr is redirected
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt86-vm.XXXXXX")
qpid="" tail_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
  fi
  for p in "${tail_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then echo "$prog: kept $tmp" >&3; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "$prog: interrupted" >&3; exit 130' INT
trap 'echo "$prog: terminated" >&3; exit 143' TERM HUP

# ---------------------------------------------------------------- cache: kernel, busybox, helpers
cache=${BT86_VM_CACHE:-/var/cache/bt86-vm}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  [ -z "${BT86_VM_CACHE:-}" ] || die "cache directory $cache is not writable"
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/bt86-vm
  mkdir -p "$cache" || die "cannot create cache directory $cache"
fi

# apt-get download, running apt-get update once if the package is unknown or the download fails.
apt_updated=0
apt_fetch() {  # PKG DESTDIR
  local pkg=$1 dest=$2
  if ! (cd "$dest" && apt-get download "$pkg" >"$tmp/apt.log" 2>&1); then
    if [ "$apt_updated" = 0 ]; then
      info "apt-get download $pkg failed; running apt-get update"
      apt-get update >"$tmp/apt-update.log" 2>&1 || { cat "$tmp/apt-update.log" >&2; die "apt-get update failed"; }
      apt_updated=1
      (cd "$dest" && apt-get download "$pkg" >"$tmp/apt.log" 2>&1) && return 0
    fi
    cat "$tmp/apt.log" >&2
    die "cannot download Debian package $pkg"
  fi
}

kernel_pkg_name() {  # the real package behind the linux-image-amd64 metapackage
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

fetch_kernel() {
  local pkg dl
  pkg=$(kernel_pkg_name)
  if [ -z "$pkg" ] && [ "$apt_updated" = 0 ]; then
    info "linux-image-amd64 unknown to apt; running apt-get update"
    apt-get update >"$tmp/apt-update.log" 2>&1 || { cat "$tmp/apt-update.log" >&2; die "apt-get update failed"; }
    apt_updated=1
    pkg=$(kernel_pkg_name)
  fi
  [ -n "$pkg" ] || die "apt knows no linux-image-amd64 (is this a Debian host with amd64 sources?)"
  info "fetching $pkg (Debian kernel; not installed on the host)"
  dl=$(mktemp -d "$tmp/kernel.XXXXXX")
  apt_fetch "$pkg" "$dl"
  dpkg-deb -x "$dl"/"$pkg"_*.deb "$dl/x" || die "cannot unpack $pkg"
  local vmlinuz
  vmlinuz=$(ls "$dl"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
  [ -n "$vmlinuz" ] || die "$pkg has no /boot/vmlinuz-*"
  rm -rf "$cache/kernel.new" && mkdir -p "$cache/kernel.new"
  cp "$vmlinuz" "$dl"/x/boot/config-* "$cache/kernel.new/"
  echo "$pkg" >"$cache/kernel.new/package"
  rm -rf "$cache/kernel" && mv "$cache/kernel.new" "$cache/kernel"
  rm -rf "$dl"   # the modules (~400 MB unpacked) are not needed: everything used is built in
}

fetch_busybox() {
  local dl
  info "fetching busybox-static"
  dl=$(mktemp -d "$tmp/busybox.XXXXXX")
  apt_fetch busybox-static "$dl"
  dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/x" || die "cannot unpack busybox-static"
  [ -x "$dl/x/bin/busybox" ] || die "busybox-static has no /bin/busybox"
  cp "$dl/x/bin/busybox" "$cache/busybox.new" && mv "$cache/busybox.new" "$cache/busybox"
  rm -rf "$dl"
}

build_helpers() {  # static helpers, rebuilt when their sources change
  local key dir
  key=$(cat "$here/vm-exit.c" "$here/compat32-check.c" | sha256sum | cut -c1-16)
  dir=$cache/helpers-$key
  if [ ! -x "$dir/vm-exit" ]; then
    command -v gcc >/dev/null || die "gcc is needed to build the VM's exit helper"
    rm -rf "$dir.new" && mkdir -p "$dir.new"
    gcc -O2 -static -o "$dir.new/vm-exit" "$here/vm-exit.c" 2>"$tmp/gcc.log" ||
      { cat "$tmp/gcc.log" >&2; die "cannot build vm-exit (static glibc: libc6-dev)"; }
    gcc -m32 -O2 -static -o "$dir.new/compat32-check" "$here/compat32-check.c" 2>"$tmp/gcc.log" ||
      warn "cannot build the 32-bit sanity program (gcc-multilib missing?); sanity check skipped"
    rm -rf "$dir" && mv "$dir.new" "$dir"
  fi
  helpers=$dir
}

{
  flock 9
  if [ -n "${BT86_VM_KERNEL:-}" ]; then
    [ -f "$BT86_VM_KERNEL" ] || die "BT86_VM_KERNEL=$BT86_VM_KERNEL does not exist"
    kernel=$BT86_VM_KERNEL
  else
    if [ "$refresh" = 1 ] || ! ls "$cache"/kernel/vmlinuz-* >/dev/null 2>&1; then fetch_kernel; fi
    kernel=$(ls "$cache"/kernel/vmlinuz-* | head -n1)
  fi
  if [ "$refresh" = 1 ] || [ ! -x "$cache/busybox" ]; then fetch_busybox; fi
  build_helpers
} 9>"$cache/.lock"
busybox=$cache/busybox

qemu="qemu-system-x86_64"
if ! command -v "$qemu" >/dev/null; then
  info "$qemu missing; installing qemu-system-x86"
  [ "$(id -u)" = 0 ] || die "$qemu is not installed (apt-get install qemu-system-x86)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-x86 \
    >"$tmp/apt.log" 2>&1 || { apt-get update >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-x86 \
      >"$tmp/apt.log" 2>&1; } || { cat "$tmp/apt.log" >&2; die "cannot install qemu-system-x86"; }
fi

# ---------------------------------------------------------------- staging the root file system
root=$tmp/root
mkdir -p "$root"
declare -A staged=() scanned=()
elf_queue=()

# Few processes per file: on a small VM-host, spawning them is what costs.
elf_class() {  # FILE -> 1 (32-bit ELF), 2 (64-bit ELF) or empty
  local LC_ALL=C hdr=""
  [ -f "$1" ] && [ -r "$1" ] || return 0
  IFS= read -r -N 5 hdr <"$1" 2>/dev/null || true
  case "$hdr" in $'\x7fELF\x01') echo 1 ;; $'\x7fELF\x02') echo 2 ;; esac
}
is_elf() { local LC_ALL=C hdr=""; [ -f "$1" ] && [ -r "$1" ] && IFS= read -r -N 4 hdr <"$1" 2>/dev/null && [ "$hdr" = $'\x7fELF' ]; }

norm_path() {  # lexical normalisation of an absolute path (no symlinks resolved) -> $NORM
  local IFS=/ comp parts=()
  for comp in $1; do
    case "$comp" in
      ""|.) ;;
      ..) [ ${#parts[@]} -eq 0 ] || unset 'parts[${#parts[@]}-1]' ;;
      *) parts+=("$comp") ;;
    esac
  done
  NORM="/${parts[*]}"
}

# Copies one host path into $root at the same path. Symbolic links on the way (/lib -> usr/lib,
# libfoo.so.1 -> libfoo.so.1.2.3) are recreated as links and followed, so the VM sees the same
# layout as the host. A directory is created empty (copy_tree fills it); an ELF file is queued
# for its shared libraries.
stage_path() {
  [ -z "${staged[$1]:-}" ] || return 0
  local p NORM
  norm_path "$1"; p=$NORM
  staged[$1]=1
  [ -z "${staged[$p]:-}" ] || [ "$p" = "$1" ] || return 0
  staged[$p]=1
  [ -e "$p" ] || [ -L "$p" ] || { warn "$p does not exist on the host; not copied"; return 0; }
  local rest=${p#/} cur="" comp
  while [ -n "$rest" ]; do
    comp=${rest%%/*}
    if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=""; fi
    [ -n "$comp" ] || continue
    local parent=${cur:-/}
    cur=$cur/$comp
    if [ -L "$cur" ]; then
      local tgt base
      tgt=$(readlink -- "$cur")
      if [ ! -e "$root$cur" ] && [ ! -L "$root$cur" ]; then
        [ -d "$root$parent" ] || mkdir -p "$root$parent"
        ln -s -- "$tgt" "$root$cur"
      fi
      if [[ $tgt == /* ]]; then base=$tgt; else base=$parent/$tgt; fi
      stage_path "$base${rest:+/$rest}"
      return 0
    fi
    if [ -n "$rest" ] && [ ! -d "$root$cur" ]; then mkdir -p "$root$cur"; fi
  done
  if [ -d "$p" ]; then
    mkdir -p "$root$p"
  else
    cp -p -- "$p" "$root$p"
    if is_elf "$p"; then elf_queue+=("$p"); fi
  fi
}

# Copies a whole tree; queues its ELF files; stages what its symlinks point to outside it.
copy_tree() {
  local src real NORM
  [[ $1 == /* ]] && norm_path "$1" || norm_path "$PWD/$1"
  src=$NORM
  [ -e "$src" ] || die "--copy $1: no such file or directory"
  stage_path "$src"
  [ -d "$src" ] || return 0
  real=$(realpath -e -- "$src")
  cp -a -- "$real/." "$root$real/"
  local f
  while IFS= read -r -d '' f; do
    if is_elf "$f"; then elf_queue+=("$f"); staged[$f]=1; fi
  done < <(find "$real" -type f \( -perm /111 -o -name '*.so' -o -name '*.so.*' \) -print0)
  while IFS= read -r -d '' f; do
    [[ $f == "$real"/* ]] || [ ! -e "$f" ] || stage_path "$f"
  done < <(find "$real" -type l -print0 | xargs -0 -r realpath -zm --)
}

# Shared-library lookup, close to ld.so's: RPATH/RUNPATH ($ORIGIN), the host's ld.so cache for
# the file's class, then the default directories.
declare -A ldcache64=() ldcache32=() resolved=()
while IFS='|' read -r name tag path; do
  case "$tag" in
    *x86-64*) [ -n "${ldcache64[$name]:-}" ] || ldcache64[$name]=$path ;;
    *x32*) ;;
    *) [ -n "${ldcache32[$name]:-}" ] || ldcache32[$name]=$path ;;
  esac
done < <(ldconfig -p 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) (\(.*\)) => \(.*\)$/\1|\2|\3/p')
defdirs64=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib)
defdirs32=(/lib32 /usr/lib32 /lib/i386-linux-gnu /usr/lib/i386-linux-gnu /lib /usr/lib)

resolve_lib() {  # NAME CLASS ORIGIN "RPATHS" -> $LIB (the host path, or empty)
  local name=$1 class=$2 origin=$3 paths=$4 d c key
  LIB=""
  if [[ $name == */* ]]; then LIB=$name; return; fi
  key="$class|$name|$paths"
  [[ $paths != *ORIGIN* ]] || key+="|$origin"
  if [ -n "${resolved[$key]+set}" ]; then LIB=${resolved[$key]}; return; fi
  local IFS=:
  for d in $paths; do
    d=${d//\$ORIGIN/$origin}; d=${d//\$\{ORIGIN\}/$origin}
    c=$d/$name
    if [ "$(elf_class "$c")" = "$class" ]; then LIB=$c; break; fi
  done
  unset IFS
  if [ -z "$LIB" ]; then
    if [ "$class" = 2 ]; then c=${ldcache64[$name]:-}; else c=${ldcache32[$name]:-}; fi
    if [ -n "$c" ] && [ -f "$c" ]; then LIB=$c; fi
  fi
  if [ -z "$LIB" ]; then
    local dirs
    if [ "$class" = 2 ]; then dirs=("${defdirs64[@]}"); else dirs=("${defdirs32[@]}"); fi
    for d in "${dirs[@]}"; do
      c=$d/$name
      if [ "$(elf_class "$c")" = "$class" ]; then LIB=$c; break; fi
    done
  fi
  resolved[$key]=$LIB
}

scan_elfs() {
  local f line class interp rpath runpath lib LIB needed
  while [ ${#elf_queue[@]} -gt 0 ]; do
    f=${elf_queue[-1]}
    unset 'elf_queue[-1]'
    [ -z "${scanned[$f]:-}" ] || continue
    scanned[$f]=1
    class="" interp="" rpath="" runpath="" needed=()
    while IFS= read -r line; do
      case "$line" in
        *"Class:"*ELF64*) class=2 ;;
        *"Class:"*ELF32*) class=1 ;;
        *"[Requesting program interpreter: "*) interp=${line##*interpreter: }; interp=${interp%]} ;;
        *"(NEEDED)"*) lib=${line##*[}; needed+=("${lib%]}") ;;
        *"(RPATH)"*) rpath=${line##*[}; rpath=${rpath%]} ;;
        *"(RUNPATH)"*) runpath=${line##*[}; runpath=${runpath%]} ;;
      esac
    done < <(readelf -hldW -- "$f" 2>/dev/null)
    [ -n "$class" ] || continue
    [ -z "$interp" ] || stage_path "$interp"
    [ -z "$runpath" ] || rpath=$runpath
    for lib in "${needed[@]}"; do
      resolve_lib "$lib" "$class" "${f%/*}" "$rpath"
      if [ -n "$LIB" ]; then stage_path "$LIB"
      else warn "cannot find $lib (needed by $f) on the host; not copied"; fi
    done
  done
}

# Same top-level layout as the host (merged /usr: /bin -> usr/bin, /lib -> usr/lib, ...).
for d in /bin /sbin /lib /lib32 /lib64 /libx32; do
  if [ -L "$d" ]; then stage_path "$d"; fi
done

t_stage=$SECONDS
for c in "${copies[@]}"; do copy_tree "$c"; done
if [ "$with_cmake" = 1 ]; then
  for t in cmake ctest cpack; do
    p=$(command -v "$t" 2>/dev/null) || die "--with-cmake: $t is not installed on the host"
    stage_path "$p"
  done
  cmver=$(cmake --version | sed -n '1s/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
  for d in /usr/share/cmake-"$cmver" /usr/share/cmake; do
    if [ -d "$d" ]; then copy_tree "$d"; fi
  done
fi
# The command itself, if it is a host program not copied yet.
if [[ ${cmd[0]} == */* ]]; then
  c0=$(realpath -sm -- "${cmd[0]}")
  if [[ ${cmd[0]} != /* ]]; then
    warn "relative command path ${cmd[0]} is taken relative to the VM's working directory"
  elif [ -z "${staged[$c0]:-}" ] && [ ! -e "$root$c0" ] && [ -f "$c0" ]; then
    stage_path "$c0"
  fi
elif ! "$busybox" --list | grep -qx -- "${cmd[0]}"; then
  if p=$(command -v -- "${cmd[0]}" 2>/dev/null) && [[ $p == /* ]] && [ ! -e "$root$p" ]; then
    stage_path "$p"
  fi
fi
scan_elfs

# Loader cache for libraries outside the default directories, as on the host.
if [ -f /etc/ld.so.conf ]; then
  mkdir -p "$root/etc"
  cp /etc/ld.so.conf "$root/etc/"
  [ ! -d /etc/ld.so.conf.d ] || cp -r /etc/ld.so.conf.d "$root/etc/"
  ldconfig -X -r "$root" 2>/dev/null || warn "ldconfig -r failed; the VM's ld.so uses its default directories only"
fi
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost bt86-vm\n::1 localhost\n' >"$root/etc/hosts"

# Busybox and the helpers live in /.vm so they never collide with copied host files.
mkdir -p "$root/.vm/bin"
cp "$busybox" "$root/.vm/bin/busybox"
cp "$helpers/vm-exit" "$root/.vm/bin/"
[ ! -x "$helpers/compat32-check" ] || cp "$helpers/compat32-check" "$root/.vm/bin/"
cp "$here/init.sh" "$root/init" && chmod 755 "$root/init"
# A /bin/sh for programs that call system() or popen(), unless the host's was copied.
if [ ! -e "$root/bin/sh" ] && [ ! -L "$root/bin/sh" ]; then
  mkdir -p "$root/usr/bin"
  [ -L "$root/bin" ] || mkdir -p "$root/bin"
  ln -s /.vm/bin/busybox "$root/bin/sh"
fi
echo "$sanity" >"$root/.vm/sanity"

# Working directory: --workdir, else the current one if it was copied, else /.
if [ -z "$workdir" ]; then
  if [ -d "$root$PWD" ] && [ "$PWD" != / ]; then workdir=$PWD; else workdir=/; fi
fi
[[ $workdir == /* ]] || workdir=$(realpath -sm -- "$workdir")
[ -d "$root$workdir" ] || die "--workdir $workdir is not in the VM (copy it with --copy)"

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
  echo "# generated by run-in-vm.sh"
  for e in "${envs[@]}"; do printf 'export %s=%s\n' "${e%%=*}" "$(q "${e#*=}")"; done
  printf 'cd -- %s || exit 125\n' "$(q "$workdir")"
  [ "$merge" = 0 ] || echo 'exec 2>&1'
  printf 'exec'
  for a in "${cmd[@]}"; do printf ' %s' "$(q "$a")"; done
  printf '\n'
} >"$root/.vm/cmd"

# ---------------------------------------------------------------- initramfs
case "$compress" in
  none) initrd=$tmp/initrd.cpio; squeeze=(cat) ;;
  gzip) initrd=$tmp/initrd.cpio.gz; squeeze=(gzip -1) ;;
  zstd) command -v zstd >/dev/null || die "--compress zstd: zstd is not installed"
    initrd=$tmp/initrd.cpio.zst; squeeze=(zstd -q -3 -T0 --stdout) ;;
esac
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
  "${squeeze[@]}" >"$initrd" || die "cannot build the initramfs"
info "initramfs: $(du -sh "$initrd" | cut -f1) ($(find "$root" | wc -l) files, built in $((SECONDS - t_stage)) s); kernel $(basename "$kernel")"
rm -rf "$root"

# ---------------------------------------------------------------- boot
cmdline="console=ttyS0 panic=-1 mitigations=off"
if [ "$verbose" = 1 ]; then cmdline+=" loglevel=7"; else cmdline+=" quiet loglevel=3"; fi
[ -z "$append" ] || cmdline+=" $append"
console=$tmp/console.log out=$tmp/stdout.log err=$tmp/stderr.log
: >"$console"; : >"$out"; : >"$err"
# shellcheck disable=SC2054  # the commas are QEMU option syntax
qemu_args=(
  -accel tcg -cpu "$cpu" -m "$mem" -smp "$smp" -nographic -no-reboot
  -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
  -monitor none -nic none
  -serial "file:$console" -serial "file:$out" -serial "file:$err"
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
)
t_boot=$(date +%s.%N)
# With setpriv, QEMU gets SIGKILL if this script dies in any way (even SIGKILL); the traps cover
# the normal ways.
launcher=()
if command -v setpriv >/dev/null; then launcher=(setpriv --pdeathsig KILL --); fi
"${launcher[@]}" "$qemu" "${qemu_args[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
tail -n +1 -s 0.2 -f --pid="$qpid" "$out" &
tail_pids+=($!)
tail -n +1 -s 0.2 -f --pid="$qpid" "$err" >&2 &
tail_pids+=($!)
if [ "$verbose" = 1 ]; then
  tail -n +1 -s 0.2 -f --pid="$qpid" "$console" | sed -u 's/\r$//; s/^/[vm console] /' >&2 &
  tail_pids+=($!)
fi

timed_out=0 start=$SECONDS qrc=0
{  # stderr hidden: bash would print its own line if QEMU dies of a signal (reported below)
while kill -0 "$qpid" 2>/dev/null; do
  if [ $((SECONDS - start)) -ge "$timeout" ]; then
    timed_out=1
    kill "$qpid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
wait "$qpid" || qrc=$?
} 2>/dev/null
qpid=""
for p in "${tail_pids[@]}"; do wait "$p" 2>/dev/null || true; done
tail_pids=()
elapsed=$(awk -v a="$t_boot" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

show_console() {
  echo "$prog: last lines of the VM console:" >&2
  { tr -d '\r' <"$console"; echo; } | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' |
    grep -v '^[[:space:]]*$' | tail -n 25 | sed 's/^/  | /' >&2
  if [ -s "$tmp/qemu.log" ]; then
    echo "$prog: QEMU said:" >&2
    tail -n 10 "$tmp/qemu.log" | sed 's/^/  | /' >&2
  fi
}
if [ "$timed_out" = 1 ]; then
  show_console
  echo "$prog: error: timed out after ${timeout} s; VM killed" >&2
  exit 124
fi
status=$(tr -d '\r' <"$console" | sed -n 's/.*BT86-VM-EXIT-STATUS=\([0-9][0-9]*\).*/\1/p' | tail -n1)
if [ -n "$status" ]; then
  if [ $((qrc & 1)) = 1 ] && [ $(((qrc - 1) / 2)) != $((status & 127)) ]; then
    warn "status marker ($status) and QEMU exit code ($qrc) disagree; using the marker"
  fi
  info "command exited with status $status (VM ran ${elapsed} s)"
  exit "$status"
fi
if [ $((qrc & 1)) = 1 ]; then
  status=$(((qrc - 1) / 2))
  warn "no status marker on the console; status $status from the debug-exit port (low 7 bits)"
  exit "$status"
fi
show_console
if [ "$qrc" -gt 128 ]; then
  sig=$((qrc - 128))
  echo "$prog: error: QEMU itself died of signal $sig (SIG$(kill -l "$sig" 2>/dev/null || echo '?')) while the command ran; guest code can trigger QEMU TCG bugs (see scripts/vm/README.md)" >&2
else
  echo "$prog: error: the VM ended without reporting the command's status (QEMU exit code $qrc: kernel panic, init failure or boot failure)" >&2
fi
exit 125
