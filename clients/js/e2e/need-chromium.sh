#!/bin/sh
# Makes sure Debian's chromium is at /usr/bin/chromium for the browser test
# (make test-browser). On a fresh Debian or Ubuntu machine, CI's included,
# it installs the apt package; anywhere it cannot, it stops with the reason
# rather than let the test be skipped. playwright-core drives this chromium:
# no browser is ever downloaded by `npx playwright install`.
set -eu

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
	exit 0
fi

fail() {
	echo "need-chromium: $*" >&2
	echo "need-chromium: the browser test needs Debian's chromium at $CHROMIUM; install it (apt-get install chromium) and run make test-browser again" >&2
	exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$CHROMIUM is missing and there is no apt-get here"
if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root="sudo -n"
else
	fail "$CHROMIUM is missing, and installing it needs root (or sudo without a password)"
fi

echo "need-chromium: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -q || fail "apt-get update failed"
$as_root apt-get install -y -q --no-install-recommends chromium || fail "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || fail "apt-get installed chromium, but $CHROMIUM is not there"
"$CHROMIUM" --version
