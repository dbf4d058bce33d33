#!/usr/bin/env bash
# Make `prometheus`, `promtool`, `alertmanager` and `amtool` available for the tests and benchmarks,
# from Debian's `prometheus` and `prometheus-alertmanager` packages, without leaving the
# Debian services running: the tests start their own on free loopback ports.
#
# Never fails the build: when it cannot install, it says why and exits 0; the tests that
# need Prometheus then fail with a clear message when CI=true and skip otherwise.
set -uo pipefail

say() { echo "ensure-prometheus: $*"; }

have_all() {
    command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
        && command -v alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1
}
if have_all; then
    exit 0
fi
PACKAGES=(prometheus prometheus-alertmanager)

if ! command -v apt-get >/dev/null 2>&1; then
    say "prometheus is not on PATH and apt-get is not available; install Prometheus" \
        "(prometheus and promtool) by hand, or the remote-backend tests will skip (fail when CI=true)"
    exit 0
fi

SUDO=()
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        say "prometheus is not on PATH and this user is not root and has no sudo;" \
            "run 'apt-get install -y --no-install-recommends prometheus' as root"
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive

# Keep the package's postinst from starting the service. policy-rc.d is how Debian lets an
# installer veto service starts; only add one if the machine has none, and remove it after.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [ ! -e "$POLICY" ]; then
    if printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null \
        && "${SUDO[@]}" chmod 755 "$POLICY"; then
        OWN_POLICY=1
    fi
fi
cleanup() {
    if [ "$OWN_POLICY" = 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

say "installing Debian's ${PACKAGES[*]} packages (not all on PATH)"
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"; then
    say "apt-get install failed; refreshing the package lists and trying once more"
    "${SUDO[@]}" apt-get update -q || true
    if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"; then
        say "could not install Debian's prometheus package; the remote-backend tests" \
            "will skip (fail when CI=true)"
        exit 0
    fi
fi

# Belt and braces: if a service manager started it anyway, stop it, and keep it off at boot.
# Without a running systemd, `systemctl disable` still edits the unit links offline.
for service in prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1; then
        if [ -d /run/systemd/system ]; then
            "${SUDO[@]}" systemctl stop "$service" >/dev/null 2>&1 || true
        fi
        "${SUDO[@]}" systemctl disable "$service" >/dev/null 2>&1 || true
    fi
    if [ -x "/etc/init.d/$service" ]; then
        "${SUDO[@]}" "/etc/init.d/$service" stop >/dev/null 2>&1 || true
        if command -v update-rc.d >/dev/null 2>&1; then
            "${SUDO[@]}" update-rc.d "$service" disable >/dev/null 2>&1 || true
        fi
    fi
done
# Debian ships the binary as prometheus-alertmanager; the tests look for `alertmanager`
if ! command -v alertmanager >/dev/null 2>&1 && [ -x /usr/bin/prometheus-alertmanager ]; then
    "${SUDO[@]}" ln -sf /usr/bin/prometheus-alertmanager /usr/local/bin/alertmanager || true
fi
# amtool comes in the same package, at /usr/bin/amtool; make sure a PATH without /usr/bin
# (unusual, but seen in minimal sandboxes) still finds it
if ! command -v amtool >/dev/null 2>&1 && [ -x /usr/bin/amtool ]; then
    "${SUDO[@]}" ln -sf /usr/bin/amtool /usr/local/bin/amtool || true
fi

if have_all; then
    say "$(prometheus --version 2>&1 | head -n 1); $(alertmanager --version 2>&1 | head -n 1)"
else
    say "installed, but prometheus, promtool, alertmanager or amtool is still not on PATH"
fi
exit 0
