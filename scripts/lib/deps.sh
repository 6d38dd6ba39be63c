# Installs the Debian packages the build, the tests and the demo need (only those missing).
# Source it and call install_deps. Package scripts must not start daemons here (no systemd): a temporary
# policy-rc.d refuses, and the harness starts each service by hand.

NWG_DEPS_BUILD="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libsodium-dev libmnl-dev nlohmann-json3-dev librabbitmq-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev"
NWG_DEPS_RUNTIME="wireguard-go wireguard-tools iproute2 iputils-ping procps socat jq curl bc openssl prometheus"
NWG_DEPS_SERVICES="rabbitmq-server mariadb-server python3-pymysql python3-neutron neutron-server
  neutron-l3-agent python3-oslo.messaging python3-openstackclient python3-pytest python3-setuptools
  python3-pip python3-stestr python3-oslotest
  keystone python3-keystonemiddleware uwsgi-core uwsgi-plugin-python3 python3-openstacksdk python3-osc-lib
  python3-qrcode python3-cryptography"
NWG_DEPS_VM="qemu-system-x86 cpio kmod xz-utils zstd"
# The package layer: debian/'s Build-Depends beyond the build's, lintian, and ccache for rebuilds.
NWG_DEPS_PACKAGE="dpkg-dev debhelper dh-python python3-all lintian ccache util-linux"
# The ovn layer: Open vSwitch (userspace datapath) and OVN, started by hand (scripts/lib/ovn.sh).
NWG_DEPS_OVN="openvswitch-switch ovn-central ovn-host"

install_deps() {
  local missing=() p
  for p in $NWG_DEPS_BUILD $NWG_DEPS_RUNTIME $NWG_DEPS_SERVICES $NWG_DEPS_VM $NWG_DEPS_PACKAGE $NWG_DEPS_OVN; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run as root to install them"
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  local had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ $had_policy = 1 ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  export DEBIAN_FRONTEND=noninteractive
  { apt-get -o DPkg::Lock::Timeout=600 update -q &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"; } \
    >"${NWG_APT_LOG:-/tmp/nwg-apt.log}" 2>&1
  local rc=$?
  [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || die "apt-get failed (see ${NWG_APT_LOG:-/tmp/nwg-apt.log})"
}
