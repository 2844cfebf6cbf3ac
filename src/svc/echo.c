/*
 * echo.c - /ws/echo: echoes text and binary messages (SPEC §1.3).
 *
 * The endpoint streams (ws.c does the work when stream_echo is set): bytes
 * are validated as they arrive and go straight back, re-fragmented into
 * frames of up to one I/O buffer, so a message of any length is echoed in
 * bounded memory.  echo_max_message > 0 caps a message (close 1009).
 * `echo_endpoint = off` removes the path (404).
 */
#include "../internal.h"

static bool
echo_enabled(void)
{
	return cfg.echo_endpoint != 0;
}

static const struct ws_ops echo_ops = {
	.type = "echo",
	.stream_echo = 1,
};

const struct route echo_routes[] = {
	{ "/ws/echo", 0, NULL, &echo_ops, echo_enabled, NULL },
	{ NULL, 0, NULL, NULL, NULL, NULL }
};
