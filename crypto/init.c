/*
 * init.c — library start-up. libsodium must be initialised before any other call; doing
 * it here keeps every other module free of that concern.
 */
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sodium.h>

#include "sealdrop/sealdrop.h"

/* jansson keeps private copies of every string it parses, the identity record's among
 * them, and frees them unwiped. Its memory is plain malloc, so free() stays right for
 * what it returns, but everything it releases itself is wiped first. */
static void wiping_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

int sd_init(void)
{
	if (sodium_init() < 0)
		return sd_error(SD_ERR_INTERNAL, "libsodium could not be initialised");
	json_set_alloc_funcs(malloc, wiping_free);
	return 0;
}

void *sd_secret_alloc(size_t len)
{
	return sodium_malloc(len);
}

void sd_secret_free(void *p)
{
	sodium_free(p);
}

void sd_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

int sd_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

static volatile sig_atomic_t cancel_requested;

void sd_cancel_request(void)
{
	cancel_requested = 1;
}

bool sd_is_cancelled(void)
{
	return cancel_requested != 0;
}
