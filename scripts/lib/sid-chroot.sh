# shellcheck shell=bash
# A cached Debian sid chroot for Hurd work on a Debian (bookworm) host.
#
# Sourced by scripts under scripts/. It provides:
#   sid_init                 set the paths below from the environment
#   sid_lock                 take the cache's lock (one user at a time)
#   sid_ensure               create or update the chroot if needed
#   sid_run [-b SRC DST]... -- CMD ARGS...
#                            run CMD inside the chroot, in a private mount
#                            namespace: /proc, /dev and each SRC (bound at
#                            DST) are mounted there only, so nothing stays
#                            mounted when the command ends or is killed
#
# SID_PACKAGES must be installed; SID_OPTIONAL_PACKAGES are installed when
# the archive has them. Every script uses the same lists, so that one
# chroot serves them all without re-provisioning back and forth.
#
# Environment:
#   HURD_SANDBOX_CACHE   cache directory (default /var/cache/hurd-sandbox)
#   HURD_SANDBOX_MIRROR  Debian mirror (default http://deb.debian.org/debian)

# Bump when the way the chroot is set up changes: it forces an update.
SID_FORMAT=1

# The toolchain (clippy is Debian's rust-clippy), clang and libclang for
# bindgen and for linking, and for hurd-sys: MIG, GNU Mach's headers and
# the targets' binutils.
SID_PACKAGES=(rustc cargo rust-src rust-clippy clang libclang-dev pkg-config ca-certificates)
SID_OPTIONAL_PACKAGES=(mig-x86-64-gnu gnumach-dev binutils-x86-64-gnu binutils-i686-gnu)

sid_log() { printf '%s: %s\n' "${SID_PROG:-sid-chroot}" "$*" >&2; }
sid_die() { sid_log "error: $*"; exit 3; }

sid_init() {
	SID_CACHE=${HURD_SANDBOX_CACHE:-/var/cache/hurd-sandbox}
	SID_MIRROR=${HURD_SANDBOX_MIRROR:-http://deb.debian.org/debian}
	case $SID_CACHE in
	/*) ;;
	*) sid_die "HURD_SANDBOX_CACHE must be an absolute path (got '$SID_CACHE')" ;;
	esac
	SID_CACHE=${SID_CACHE%/}
	SID_ROOT=$SID_CACHE/sid
	SID_STAMP=$SID_CACHE/sid.stamp
	# shellcheck disable=SC2034 # used by the sourcing scripts
	SID_CARGO_HOME=$SID_CACHE/cargo-home
	# The shared cargo home, as seen from inside the chroot.
	# shellcheck disable=SC2034
	SID_CARGO_HOME_IN=/var/cache/hurd-sandbox-cargo
	[ "$(id -u)" = 0 ] || sid_die "must run as root (debootstrap, chroot and mount need it)"
	mkdir -p "$SID_CACHE"
}

sid_lock() {
	exec 9>"$SID_CACHE/lock"
	if ! flock -n 9; then
		sid_log "waiting for another run to release $SID_CACHE/lock"
		flock 9
	fi
}

# What the chroot must look like; sid_ensure compares it with the stamp.
sid_wanted() {
	printf 'format=%s\n' "$SID_FORMAT"
	printf 'suite=sid variant=buildd mirror=%s\n' "$SID_MIRROR"
	printf 'packages=%s\n' "$(printf '%s\n' "${SID_PACKAGES[@]}" | sort -u | tr '\n' ' ')"
	printf 'optional=%s\n' "$(printf '%s\n' "${SID_OPTIONAL_PACKAGES[@]}" | sort -u | tr '\n' ' ')"
}

# Fail if anything is mounted at or below $1 (so rm -rf cannot reach the host).
sid_assert_unmounted() {
	local dir=$1
	if awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mountinfo; then
		sid_die "something is mounted under $dir; unmount it first (see /proc/self/mountinfo)"
	fi
}

sid_remove_tree() {
	local dir=$1
	[ -e "$dir" ] || return 0
	sid_assert_unmounted "$dir"
	rm -rf --one-file-system -- "$dir"
}

sid_host_tools() {
	local missing=()
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	command -v unshare >/dev/null || missing+=(util-linux)
	[ -s /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
	[ ${#missing[@]} -eq 0 ] && return 0
	sid_log "installing on the host: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
		apt-get update >&2
		apt-get install -y --no-install-recommends "${missing[@]}" >&2
	fi
}

# Files copied from the host on every run (cheap, and they may change):
# DNS, and the CA certificates (crates.io is reached through a TLS proxy
# whose CA the host trusts).
sid_sync_host_files() {
	local f
	for f in /etc/resolv.conf /etc/hosts; do
		[ -r "$f" ] || continue
		cmp -s "$f" "$SID_ROOT$f" 2>/dev/null || { rm -f "$SID_ROOT$f"; cat "$f" >"$SID_ROOT$f"; }
	done
	mkdir -p "$SID_ROOT/usr/local/share/ca-certificates" "$SID_ROOT/etc/ssl/certs"
	if [ -d /usr/local/share/ca-certificates ]; then
		cp -rL --preserve=mode /usr/local/share/ca-certificates/. "$SID_ROOT/usr/local/share/ca-certificates/"
	fi
	f=/etc/ssl/certs/ca-certificates.crt
	if [ -r "$f" ] && ! cmp -s "$f" "$SID_ROOT$f" 2>/dev/null; then
		rm -f "$SID_ROOT$f"
		cat "$f" >"$SID_ROOT$f"
	fi
}

sid_bootstrap() {
	local partial=$SID_CACHE/sid.partial
	sid_remove_tree "$partial"
	sid_log "creating the Debian sid chroot in $SID_ROOT (debootstrap, about a minute)"
	# In a private mount namespace: the /proc and /sys that debootstrap
	# mounts inside the new root vanish with it, even if it is killed.
	if ! unshare --mount --propagation private -- \
		debootstrap --variant=buildd sid "$partial" "$SID_MIRROR" >"$SID_CACHE/debootstrap.log" 2>&1; then
		tail -n 30 "$SID_CACHE/debootstrap.log" >&2 || true
		sid_die "debootstrap failed; full log: $SID_CACHE/debootstrap.log"
	fi
	mv -- "$partial" "$SID_ROOT"
}

sid_configure_apt() {
	# sid's Release file on this archive is past its Valid-Until date.
	cat >"$SID_ROOT/etc/apt/apt.conf.d/99hurd-sandbox" <<-'EOF'
		Acquire::Check-Valid-Until "false";
		APT::Install-Recommends "false";
		APT::Get::Assume-Yes "true";
		Dpkg::Use-Pty "false";
	EOF
	# No service may start inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$SID_ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$SID_ROOT/usr/sbin/policy-rc.d"
}

sid_apt() {
	sid_run -- env DEBIAN_FRONTEND=noninteractive apt-get -q "$@"
}

sid_install_packages() {
	local log=$SID_CACHE/provision.log p
	local install=("${SID_PACKAGES[@]}") missing=()
	sid_log "installing packages in the chroot (log: $log)"
	: >"$log"
	if ! sid_apt update >>"$log" 2>&1; then
		tail -n 30 "$log" >&2 || true
		sid_die "apt-get update in the chroot failed; full log: $log"
	fi
	for p in "${SID_OPTIONAL_PACKAGES[@]}"; do
		if sid_apt install -s "$p" >>"$log" 2>&1; then
			install+=("$p")
		else
			missing+=("$p")
		fi
	done
	if ! sid_apt install "${install[@]}" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2 || true
		sid_die "installing ${install[*]} in the chroot failed; full log: $log"
	fi
	sid_apt clean >>"$log" 2>&1 || true
	if [ ${#missing[@]} -gt 0 ]; then
		sid_log "note: not installable from sid, left out: ${missing[*]}"
	fi
	: >"$SID_CACHE/sid.optional-missing"
	for p in "${missing[@]}"; do
		printf '%s\n' "$p" >>"$SID_CACHE/sid.optional-missing"
	done
	if [ -n "$(ls -A "$SID_ROOT/usr/local/share/ca-certificates" 2>/dev/null)" ] &&
		[ -x "$SID_ROOT/usr/sbin/update-ca-certificates" ]; then
		sid_run -- update-ca-certificates >>"$log" 2>&1 || true
	fi
}

# sid_ensure [--reprovision]
sid_ensure() {
	local wanted start=$SECONDS
	wanted=$(sid_wanted)
	if [ "${1:-}" = --reprovision ]; then
		sid_log "removing $SID_ROOT (--reprovision)"
		rm -f "$SID_STAMP"
		sid_remove_tree "$SID_ROOT"
	fi
	if [ -d "$SID_ROOT" ] && [ -f "$SID_STAMP" ] && [ "$(cat "$SID_STAMP")" = "$wanted" ]; then
		sid_sync_host_files
		return 0
	fi
	sid_host_tools
	[ -d "$SID_ROOT" ] || sid_bootstrap
	sid_configure_apt
	sid_sync_host_files
	sid_install_packages
	sid_sync_host_files
	printf '%s\n' "$wanted" >"$SID_STAMP"
	sid_log "chroot ready in $((SECONDS - start))s"
}

# sid_run [-b SRC DST | -r SRC DST]... -- CMD ARGS...
sid_run() {
	local binds=()
	while [ $# -gt 0 ]; do
		case $1 in
		-b) binds+=(rw "$2" "$3"); shift 3 ;;
		-r) binds+=(ro "$2" "$3"); shift 3 ;;
		--) shift; break ;;
		*) sid_die "sid_run: bad argument '$1'" ;;
		esac
	done
	# A private mount namespace (the mounts exist only there and vanish
	# with its last process) and a PID namespace, whose processes are all
	# killed when unshare dies; unshare itself dies with this shell
	# (setpriv --pdeathsig), so nothing is left running or mounted when a
	# run is interrupted or killed.
	# shellcheck disable=SC2016
	setpriv --pdeathsig KILL \
		unshare --mount --propagation private --pid --kill-child=KILL -- /bin/sh -eu -c '
		root=$1; shift
		mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
		mount --rbind /dev "$root/dev"
		while [ "$1" != -- ]; do
			mkdir -p "$root$3"
			mount --bind "$2" "$root$3"
			[ "$1" = rw ] || mount -o remount,bind,ro "$root$3"
			shift 3
		done
		shift
		chroot "$root" "$@"
	' sid-run "$SID_ROOT" "${binds[@]}" -- "$@"
}

# sid_cargo_setup REPO TARGET_DIR: what running cargo on REPO inside the
# chroot takes. Sets SID_REPO, SID_TARGET_DIR, SID_BINDS (the repository,
# the cargo cache and a target directory outside the repository, each at
# its own path) and SID_ENVS (nothing of the host's environment but a few
# harmless variables: no host RUSTFLAGS, CARGO_* or PATH leak in).
sid_cargo_setup() {
	SID_REPO=$1
	case $2 in
	/*) ;;
	*) sid_die "the target directory must be an absolute path (got '$2')" ;;
	esac
	mkdir -p "$2" "$SID_CARGO_HOME"
	SID_TARGET_DIR=$(readlink -f -- "$2")
	SID_BINDS=(-b "$SID_REPO" "$SID_REPO" -b "$SID_CARGO_HOME" "$SID_CARGO_HOME_IN")
	case $SID_TARGET_DIR/ in
	"$SID_REPO"/*) ;;
	*) SID_BINDS+=(-b "$SID_TARGET_DIR" "$SID_TARGET_DIR") ;;
	esac
	SID_ENVS=(
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		HOME=/root
		LANG=C.UTF-8
		TERM="${TERM:-dumb}"
		CARGO_HOME="$SID_CARGO_HOME_IN"
		CARGO_TARGET_DIR="$SID_TARGET_DIR"
		RUSTC_BOOTSTRAP=1
	)
	local v
	for v in CI CARGO_TERM_COLOR CARGO_BUILD_JOBS http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
		if [ -n "${!v:-}" ]; then SID_ENVS+=("$v=${!v}"); fi
	done
	if [ "${CI:-}" = true ]; then SID_ENVS+=(CARGO_TERM_PROGRESS_WHEN=never); fi
}

# sid_in_repo [-b|-r SRC DST]... -- [VAR=VALUE]... CMD ARGS...: runs CMD in
# the repository inside the chroot, with sid_cargo_setup's binds and
# environment plus those given (later assignments win).
sid_in_repo() {
	local extra=()
	while [ "$1" != -- ]; do extra+=("$1" "$2" "$3"); shift 3; done
	shift
	sid_run "${SID_BINDS[@]}" "${extra[@]}" -- env -i -C "$SID_REPO" "${SID_ENVS[@]}" "$@"
}

# sid_sysroot_for TARGET: the GNU/Hurd sysroot for TARGET, if any:
# HURD_SYSROOT_<target with underscores>, else HURD_SYSROOT, else the
# local lab's ($HURD_LAB, default /srv/hurd-lab: x86_64 at its top, i686
# in its i686/).
sid_sysroot_for() {
	local var="HURD_SYSROOT_${1//-/_}" root='' lab=${HURD_LAB:-/srv/hurd-lab}
	root=${!var:-${HURD_SYSROOT:-}}
	if [ -z "$root" ] && [ "$1" = x86_64-unknown-hurd-gnu ] && [ -f "$lab/sysroot/usr/include/hurd/fs.defs" ]; then
		root=$lab/sysroot
	fi
	if [ -z "$root" ] && [ "$1" = i686-unknown-hurd-gnu ] && [ -f "$lab/i686/sysroot/usr/include/hurd/fs.defs" ]; then
		root=$lab/i686/sysroot
	fi
	[ -n "$root" ] || return 0
	root=$(readlink -f -- "$root" || true)
	if [ -z "$root" ] || [ ! -d "$root" ]; then sid_die "the sysroot for $1 ($root) is not a directory"; fi
	echo "$root"
}

# sid_mig_for TARGET: a MIG for TARGET to give hurd-sys's build script
# (HURD_MIG), when the chroot's Debian packages have none: HURD_MIG if
# set, else a lab's own build (sid has no MIG for i686-gnu). Prints
# nothing when Debian's will do.
sid_mig_for() {
	local lab=${HURD_LAB:-/srv/hurd-lab}
	if [ -n "${HURD_MIG:-}" ]; then echo "$HURD_MIG"; return 0; fi
	if [ "$1" = i686-unknown-hurd-gnu ] && [ -x "$lab/i686/cross/bin/i686-gnu-mig" ]; then
		echo "$lab/i686/cross/bin/i686-gnu-mig"
	fi
}
