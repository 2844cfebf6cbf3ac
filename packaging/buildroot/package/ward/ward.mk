################################################################################
#
# ward - built from the ward source tree this BR2_EXTERNAL lives in
# (packaging/buildroot/ of the ward repository), with Buildroot's toolchain:
# boards/sdk.mk takes CC/CFLAGS/LDFLAGS from TARGET_CONFIGURE_OPTS.
#
################################################################################

WARD_VERSION = 0.1.0
WARD_SITE = $(BR2_EXTERNAL_WARD_PATH)/../..
WARD_SITE_METHOD = local
WARD_DEPENDENCIES = bearssl jsmn
# Pool sizes: boards/sdk.mk's default suits 512 MB; override e.g. with
# WARD_POOLS = -DWARD_MAX_CONNS=128 ... (see docs/boards.md).
WARD_POOLS ?=
WARD_MAKE_OPTS = $(TARGET_CONFIGURE_OPTS) BOARD=sdk \
	$(if $(WARD_POOLS),SDK_POOLS="$(WARD_POOLS)")

define WARD_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(WARD_MAKE_OPTS) all
endef

# Binary, config, /var/lib/ward; the init files come from the hooks below.
define WARD_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(WARD_MAKE_OPTS) \
		DESTDIR=$(TARGET_DIR) INIT= install
endef

define WARD_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/packaging/S50ward \
		$(TARGET_DIR)/etc/init.d/S50ward
endef

define WARD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/packaging/ward.service \
		$(TARGET_DIR)/usr/lib/systemd/system/ward.service
endef

$(eval $(generic-package))
