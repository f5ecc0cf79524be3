/*
 * init.c — library start-up. libsodium must be initialised before any other call; doing
 * it here keeps every other module free of that concern.
 */
#include <signal.h>
#include <sodium.h>

#include "sealdrop/sealdrop.h"

int sd_init(void)
{
	if (sodium_init() < 0)
		return sd_error(SD_ERR_INTERNAL, "libsodium could not be initialised");
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
