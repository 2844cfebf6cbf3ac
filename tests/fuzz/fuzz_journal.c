/*
 * fuzz_journal.c - the storage journal's replay (src/journal.c and the
 * modules' replay functions) on arbitrary file contents: the input is
 * written as data_dir/journal.wj and journal_open() replays it.  It must
 * not crash, and it may only cut the file: what is left is a prefix of
 * the input, never longer.  Module state accumulates across inputs (the
 * fixed tables fill and must stay consistent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];
static uint8_t back[1 << 20];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long n;
	int fd;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/ward-fuzz-journal-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		cfg_defaults();
		log_level = -1;
		buf_init();
		conn_init();
		grp_init();
		snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
		snprintf(path, sizeof path, "%s/journal.wj", dir);
	}
	if (size > sizeof back)
		return 0;
	fd = port_file_create(path);
	if (fd < 0 || (size > 0 && port_file_write(fd, data, size) !=
	    (long)size))
		abort();
	port_file_close(fd);
	journal_open();
	journal_close();
	n = port_file_read(path, (char *)back, sizeof back);
	if (n < 0 || (size_t)n > size || memcmp(back, data, (size_t)n) != 0)
		abort();		/* more than a cut */
	return 0;
}
