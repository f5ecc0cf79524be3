/*
 * replay.c — the libFuzzer driver's place in an ordinary build: links with one
 * tests/fuzz/fuzz_<name>.c and runs its LLVMFuzzerTestOneInput once on every file of the
 * corpus directories (or files) named on the command line, so `make test` (gcc) and
 * `make check` (ASan+UBSan) replay every committed corpus with the real signature checks
 * and key derivation (no FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION here).
 *
 * Output is TAP for scripts/run-tests.sh: "ok 1 - fuzz_<name>: replayed K inputs", or
 * "not ok" when there was nothing to replay or a path could not be read. A target that
 * finds a bug aborts: the file being replayed is named on stderr first, then the signal
 * is raised again, so the process dies loudly and the runner counts it as a failure.
 * Start reading at main().
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_BYTES (16u << 20) /* libFuzzer's inputs are far smaller; a corpus file is never this big */

static const char *current = "(none)"; /* the input being replayed, for the crash message */
static const char *target = "fuzz";

static void on_crash(int sig)
{
	static const char head[] = "not ok - ";
	static const char mid[] = ": crashed on ";

	/* async-signal-safe: write(2) only, then die of the same signal */
	(void)!write(STDOUT_FILENO, head, sizeof(head) - 1);
	(void)!write(STDOUT_FILENO, target, strlen(target));
	(void)!write(STDOUT_FILENO, mid, sizeof(mid) - 1);
	(void)!write(STDOUT_FILENO, current, strlen(current));
	(void)!write(STDOUT_FILENO, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Our handler only where nobody (ASan, UBSan) installed one: theirs report better. */
static void catch_crashes(void)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			(void)sigaction(sigs[i], &sa, NULL);
}

/* One input, in a buffer of exactly its size so a sanitizer sees any over-read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int r = -1;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (long)REPLAY_MAX_BYTES ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc(len > 0 ? (size_t)len : 1)) == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto out;
	current = path;
	(void)LLVMFuzzerTestOneInput(buf, (size_t)len);
	current = "(none)";
	r = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in DIR, in name order; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	long done = -1;
	struct stat st;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
			if (more == NULL)
				goto out;
			names = more;
		}
		if ((names[n] = strdup(e->d_name)) == NULL)
			goto out;
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);
	done = 0;
	for (size_t i = 0; i < n && done >= 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path) ||
		    stat(path, &st) != 0)
			done = -1;
		else if (S_ISREG(st.st_mode))
			done = replay_file(path) == 0 ? done + 1 : -1;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return done;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	struct stat st;
	long total = 0, k;

	target = slash != NULL ? slash + 1 : argv[0];
	catch_crashes();
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0)
			k = -1;
		else if (S_ISDIR(st.st_mode))
			k = replay_dir(argv[i]);
		else
			k = replay_file(argv[i]) == 0 ? 1 : -1;
		if (k < 0) {
			printf("not ok 1 - %s: cannot read %s: %s\n1..1\n", target, argv[i], strerror(errno));
			return 1;
		}
		total += k;
	}
	if (total == 0) {
		printf("not ok 1 - %s: no inputs to replay (is tests/fuzz/corpus/<name>/ empty?)\n1..1\n", target);
		return 1;
	}
	printf("ok 1 - %s: replayed %ld inputs\n1..1\n", target, total);
	return 0;
}
