include $(sort $(wildcard $(BR2_EXTERNAL_WARD_PATH)/package/*/*.mk))
