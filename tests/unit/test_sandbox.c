/*
 * test_sandbox.c — server/sandbox.c's malloc settings (sd_sandbox_tune_malloc): after them,
 * the buffers of a burst of 64 KiB chunk requests stay with the heap when they are freed,
 * where glibc's defaults give them back (trim) at once and fault them in again for the next
 * request. The allow-lists themselves are tested end to end (tests/e2e/sandbox.sh).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_freed_buffers_stay),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
