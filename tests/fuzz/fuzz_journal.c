/*
 * fuzz_journal.c - the storage journal's replay (src/journal.c and the
 * modules' replay functions) on arbitrary file contents: the input is
 * written as data_dir/journal.wj and journal_open() replays it.  It must
 * not crash, and it may only cut the file (what is left is a prefix of
 * the input, never longer), or, when it skipped damage in the middle,
 * keep the input byte for byte as journal.wj.corrupt-<time> and write a
 * new journal that a second open replays with no damage and no cut.
 * Module state accumulates across inputs (the fixed tables fill and must
 * stay consistent).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "svc/svc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];
static uint8_t back[1 << 20];

/* The journal.wj.corrupt-* left by the last open (removed), or false. */
static bool
take_aside(const uint8_t *data, size_t size)
{
	char aside[400];
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(dir);
	long n;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "journal.wj.corrupt-", 19) != 0)
			continue;
		if (found)
			abort();		/* one per open */
		found = true;
		snprintf(aside, sizeof aside, "%s/%s", dir, e->d_name);
		n = port_file_read(aside, (char *)back, sizeof back);
		if (n < 0 || (size_t)n != size || memcmp(back, data, size) != 0)
			abort();	/* not the input as it was */
		unlink(aside);
	}
	closedir(d);
	return found;
}

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
		fanout_init();
		if (svc_index_register(NULL, 0) != 0)
			abort();	/* the families take their records */
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
	if (take_aside(data, size)) {
		/* rewritten from what replayed: it must replay clean */
		long before = port_file_size(path);

		journal_open();
		journal_close();
		if (take_aside(NULL, 0) || port_file_size(path) != before)
			abort();
		return 0;
	}
	n = port_file_read(path, (char *)back, sizeof back);
	if (n < 0 || (size_t)n > size || memcmp(back, data, (size_t)n) != 0)
		abort();		/* more than a cut */
	return 0;
}
