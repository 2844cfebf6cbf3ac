SUMMARY = "jsmn: minimalistic JSON tokenizer (header-only)"
HOMEPAGE = "https://github.com/zserge/jsmn"
LICENSE = "MIT"
# Fill in on first fetch (bitbake prints the values it expects).
LIC_FILES_CHKSUM = "file://LICENSE;md5=<md5 of LICENSE>"
SRC_URI = "https://github.com/zserge/jsmn/archive/refs/tags/v${PV}.tar.gz;downloadfilename=jsmn-${PV}.tar.gz"
SRC_URI[sha256sum] = "<sha256 of the tarball>"
S = "${WORKDIR}/jsmn-${PV}"

ALLOW_EMPTY:${PN} = "1"
do_configure[noexec] = "1"
do_compile[noexec] = "1"
do_install() {
    install -D -m 0644 ${S}/jsmn.h ${D}${includedir}/jsmn.h
}
BBCLASSEXTEND = "native nativesdk"
