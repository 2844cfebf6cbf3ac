/*
 * web.h - the web assets (src/web/) embedded at build time by
 * src/web/embed.sh into build/gen/web_assets.c.
 */
#ifndef WARD_WEB_H
#define WARD_WEB_H

struct web_asset {
	const char		*name;	/* file name, e.g. "ward-client.js" */
	const char		*ctype;	/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
	const char		*etag;	/* quoted: size and POSIX cksum */
};

/* NULL-terminated. */
extern const struct web_asset web_assets[];

#endif
