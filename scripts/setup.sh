# Sourced by scripts/test and scripts/demo: installs what a fresh Debian 12
# lacks (toolchain included), then configures and builds into a folder.
# As root it runs apt-get; otherwise it prints the exact command and stops.

BC_PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev curl ca-certificates python3 python3-h2 tzdata
  libcurl4-openssl-dev libxml2-dev libcjson-dev libcsv-dev zlib1g-dev libssl-dev
  libmicrohttpd-dev"

bc_missing_packages() {
	local missing="" p
	for p in $BC_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	echo "$missing"
}

bc_install() {
	local missing
	missing=$(bc_missing_packages)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "bulkcall: missing packages:$missing" >&2
		echo "install them with:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
		exit 2
	fi
	echo "bulkcall: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || { echo "bulkcall: apt-get update failed" >&2; exit 2; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2 ||
		{ echo "bulkcall: apt-get install failed" >&2; exit 2; }
}

# bc_build DIR [cmake args...]
bc_build() {
	local dir=$1
	shift
	cmake -S "$BC_ROOT" -B "$BC_ROOT/$dir" -DBC_WERROR=ON "$@" >/dev/null || exit 4
	cmake --build "$BC_ROOT/$dir" -j"$(nproc)" || exit 4
}
