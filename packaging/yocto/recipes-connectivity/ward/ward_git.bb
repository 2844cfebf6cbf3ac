SUMMARY = "ward: HTTP/1.1 + WebSocket server with static memory pools"
DESCRIPTION = "Single-threaded poll() server for clinic gateway boards: \
HTTP/1.1, RFC 6455 WebSocket, sd_notify, no allocation after start-up."
# Set to the project's licence and its LIC_FILES_CHKSUM.
LICENSE = "CLOSED"

# Point SRC_URI/SRCREV at the ward repository (or use externalsrc while
# developing: INHERIT += "externalsrc", EXTERNALSRC:pn-ward = "/path/to/ward").
SRC_URI = "git://git.example.org/ward.git;protocol=https;branch=main"
SRCREV = "${AUTOREV}"
PV = "0.1.0+git${SRCPV}"
S = "${WORKDIR}/git"

DEPENDS = "bearssl jsmn"

inherit systemd update-rc.d

# boards/sdk.mk: CC (with --sysroot), CFLAGS, LDFLAGS come from the
# environment bitbake exports; the Makefile appends, never replaces, them.
# Pool sizes: add SDK_POOLS="-DWARD_MAX_CONNS=128 ..." here (docs/boards.md).
EXTRA_OEMAKE = "BOARD=sdk PREFIX=${prefix} SBINDIR=${sbindir} \
    SYSCONFDIR=${sysconfdir} UNITDIR=${systemd_system_unitdir} \
    INITDIR=${sysconfdir}/init.d INITNAME=ward"

do_compile() {
    oe_runmake all
}

# Unstripped: Yocto strips and splits debug info itself.
do_install() {
    oe_runmake install DESTDIR=${D} \
        INIT="${@bb.utils.filter('DISTRO_FEATURES', 'systemd', d)} \
              ${@bb.utils.contains('DISTRO_FEATURES', 'sysvinit', 'sysv', '', d)}"
}

SYSTEMD_SERVICE:${PN} = "ward.service"
INITSCRIPT_NAME = "ward"
INITSCRIPT_PARAMS = "defaults 50"

CONFFILES:${PN} = "${sysconfdir}/ward/ward.conf"
FILES:${PN} += "${localstatedir}/lib/ward"
