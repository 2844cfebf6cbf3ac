/*
 * replay.c - a main() for the fuzz targets without libFuzzer, so CI needs
 * no clang: every file given, and every regular file of every directory
 * given, goes through LLVMFuzzerTestOneInput once.
 *
 * Each input runs in its own child process: a crash (sanitizer report,
 * abort, signal) fails that file and the others still run.  The input is
 * a heap copy of its exact size, as under libFuzzer, so ASan sees reads
 * past its end.  Prints "N passed, M failed" (files); exits 1 on failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned passed, failed;

/* Read a whole file into an exact-size heap buffer. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = malloc(n > 0 ? (size_t)n : 1);
		if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

static void
run_file(const char *path)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		failed++;
		return;
	}
	if (pid == 0) {
		size_t len = 0;
		uint8_t *p = slurp(path, &len);

		if (p == NULL) {
			fprintf(stderr, "replay: cannot read %s\n", path);
			_exit(2);
		}
		LLVMFuzzerTestOneInput(p, len);
		free(p);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		failed++;
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		passed++;
		return;
	}
	failed++;
	if (WIFSIGNALED(st))
		fprintf(stderr, "FAIL %s (signal %d)\n", path, WTERMSIG(st));
	else
		fprintf(stderr, "FAIL %s (exit %d)\n", path, WEXITSTATUS(st));
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (runs are reproducible). */
static void
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: no such directory (no corpus)\n",
		    dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) *
			    sizeof *names);

			if (nn == NULL)
				break;
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			run_file(path);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			run_dir(argv[i]);
		else if (stat(argv[i], &sb) == 0)
			run_file(argv[i]);
		else
			fprintf(stderr, "replay: %s: not found (no corpus)\n",
			    argv[i]);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
