#!/bin/sh
# Installs the Debian packages sealdrop needs to build, test, fuzz and benchmark, if
# any are missing. Idempotent; apt-get only. Run as root (make test / make run call it).
# gettext brings msgfmt and xgettext for the client's messages (po/). No Korean locale has
# to be generated: the client falls back to C.UTF-8 (client/i18n.c). curl drives the
# server in the end-to-end tests; passwd brings useradd for `sealdropd init`. mandoc
# lints the man pages; zsh and bash-completion load the shell completions in the tests.
# `deps.sh --bench` adds what only `make bench` uses: nginx (the baseline server).
# `deps.sh --soak` adds what only `make soak` and `make tls-audit` use: slowhttptest,
# testssl.sh and sslscan. `deps.sh --deb` adds what only `make deb-test` uses: debhelper,
# lintian, man-db, strace. tor (with --soak) lets tests/e2e/socks5.sh check the torrc of
# docs/DEPLOY_TOR.md; it is not in the base list because installing Debian's tor starts a
# Tor daemon on a machine with systemd, which `make test` has no business doing.
set -eu
PKGS="build-essential pkg-config libsodium-dev libssl-dev libevent-dev libhttp-parser-dev
liblmdb-dev lmdb-utils libseccomp-dev libjansson-dev libcmocka-dev clang libclang-rt-14-dev time python3-nacl openssl clang-format
gettext curl passwd ca-certificates mandoc zsh bash-completion"
if [ "${1:-}" = --bench ]; then
	PKGS="$PKGS nginx-light"
elif [ "${1:-}" = --soak ]; then
	PKGS="$PKGS slowhttptest testssl.sh sslscan tor"
elif [ "${1:-}" = --deb ]; then
	PKGS="$PKGS debhelper lintian man-db strace"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
