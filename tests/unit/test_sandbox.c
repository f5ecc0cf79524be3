/*
 * test_sandbox.c — server/sandbox.c's malloc settings (sd_sandbox_tune_malloc): after them,
 * the buffers of a burst of 64 KiB chunk requests stay with the heap when they are freed,
 * where glibc's defaults give them back (trim) at once and fault them in again for the next
 * request. And what each of the three allow-lists must let glibc do that the end-to-end
 * runs (tests/e2e/sandbox.sh, privsep.sh) reach only under load: a large qsort.
 */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "unit.h"
#include "sealdrop/sandbox.h"

#define N_BUFS   32
#define BUF_SIZE (64 << 10)

#ifdef SD_SANDBOX_SANITIZER
#define SANITIZER 1
#else
#define SANITIZER 0
#endif

/* The heap's size (bytes the main arena holds from the system) after a burst of N_BUFS
 * buffers of BUF_SIZE, all freed again. */
static size_t heap_after_burst(void)
{
	void *p[N_BUFS];

	for (size_t i = 0; i < N_BUFS; i++) {
		p[i] = malloc(BUF_SIZE);
		assert_non_null(p[i]);
		memset(p[i], (int)i, BUF_SIZE); /* touched, as a chunk's body is */
	}
	for (size_t i = N_BUFS; i > 0; i--)
		free(p[i - 1]);
	return mallinfo2().arena;
}

static void test_freed_buffers_stay(void **state)
{
	size_t before, after;

	(void)state;
	/* The sanitizer's allocator replaces glibc's; and an environment that already changed
	 * glibc's defaults leaves nothing for this test to start from. */
	if (SANITIZER || getenv("GLIBC_TUNABLES") != NULL || getenv("MALLOC_TRIM_THRESHOLD_") != NULL ||
	    getenv("MALLOC_MMAP_THRESHOLD_") != NULL || getenv("MALLOC_TOP_PAD_") != NULL) {
		skip();
		return;
	}
	before = heap_after_burst();

	/* glibc's defaults: the burst went back to the system (trimmed below the threshold). */
	assert_true(before < (size_t)N_BUFS * BUF_SIZE / 2);
	sd_sandbox_tune_malloc();
	after = heap_after_burst();
	assert_true(after >= (size_t)N_BUFS * BUF_SIZE);
	/* and kept within the trim threshold: a few MiB, not everything ever allocated */
	assert_true(after <= (size_t)(16 << 20));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* In a child: the filter `which` loaded, then a qsort of 4 KiB — glibc asks the memory size
 * (sysinfo) the first time a process sorts 1 KiB or more, as the store process does when a
 * group commit wrote more than 64 large chunks. The child's wait status. */
static int sorted_under_filter(int which)
{
	int sv[2], status = -1;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		uint64_t v[512];
		int r = which == 0   ? sd_sandbox_enter()
		        : which == 1 ? sd_sandbox_enter_keyproc(sv[1])
		                     : sd_sandbox_enter_storeproc(sv[1]);
		if (r != 0)
			_exit(3);
		for (size_t i = 0; i < 512; i++)
			v[i] = (uint64_t)(512 - i) * 2654435761u;
		qsort(v, 512, sizeof(v[0]), cmp_u64);
		for (size_t i = 1; i < 512; i++)
			if (v[i - 1] > v[i])
				_exit(4);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(sv[0]);
	close(sv[1]);
	return status;
}

static void test_large_sort_allowed(void **state)
{
	static const char *const names[] = {"the front end's", "the key process's", "the store process's"};
	int failed = 0;

	(void)state;
	if (SANITIZER) { /* a sanitizer build loads no filter */
		skip();
		return;
	}
	for (int which = 0; which < 3; which++) {
		int st = sorted_under_filter(which);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			print_error("%s filter: a 4 KiB qsort %s %d\n", names[which],
			            WIFSIGNALED(st) ? "was killed by signal" : "exited",
			            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_freed_buffers_stay),
	        cmocka_unit_test(test_large_sort_allowed),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
