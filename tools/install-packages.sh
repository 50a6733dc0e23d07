#!/usr/bin/env bash
# Install what the local cloud needs from Debian (MariaDB, RabbitMQ, Open
# vSwitch and OVN, run privately by trunk-cleanup-localcloud, never as system
# services) and tox with tox-uv.
# Safe to run again: only what is missing is installed.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi

missing=()
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
# Open vSwitch for ML2/OVS and its agent; OVN for ML2/OVN.
command -v ovs-vswitchd >/dev/null 2>&1 || missing+=(openvswitch-switch)
command -v ovn-northd >/dev/null 2>&1 || missing+=(ovn-central)
command -v ovn-controller >/dev/null 2>&1 || missing+=(ovn-host)
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update -q
    # Their system services are not wanted: the local cloud starts private
    # instances. policy-rc.d keeps the packages from starting them.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
fi

# tox, with tox-uv: it makes tox's virtualenvs with uv, several times
# faster than pip.
# tox lists its plugins in its version.
if ! command -v tox >/dev/null 2>&1; then
    python3 -m pip install --quiet 'tox>=4' 'tox-uv>=1.11'
elif ! tox --version 2>/dev/null | grep -q 'tox-uv'; then
    python3 -m pip install --quiet 'tox-uv>=1.11' || \
        echo "tox-uv not installed: tox makes its virtualenvs with pip" >&2
fi
