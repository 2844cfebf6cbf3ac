/*
 * echo.c - /ws/echo: echoes text and binary messages (SPEC §1.3).
 *
 * The endpoint streams (ws.c does the work when stream_echo is set): bytes
 * are validated as they arrive and go straight back, re-fragmented into
 * frames of up to one I/O buffer, so a message of any length is echoed in
 * bounded memory.  echo_max_message > 0 caps a message (close 1009).
 * `echo_endpoint = off` removes the path (404).
 */
#include "svc.h"

static bool
echo_enabled(void)
{
	return cfg.echo_endpoint != 0;
}

static const struct ws_ops echo_ops = {
	.type = "echo",
	.stream_echo = 1,
};

static const struct route echo_routes[] = {
	{
		.pattern = "/ws/echo",
		.ws = &echo_ops,
		.enabled = echo_enabled,
		.summary = "Echo: every message comes back as sent",
		.params = "token",
		.msg_in = "(any message)",
		.msg_out = "(the same message)",
	},
	{ .pattern = NULL }
};

const struct family echo_family = {
	.name = "echo",
	.routes = echo_routes,
	.types = (const char *const[]){ "echo", NULL },
};

