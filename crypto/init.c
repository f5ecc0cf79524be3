/*
 * init.c — library start-up. libsodium must be initialised before any other call; doing
 * it here keeps every other module free of that concern.
 */
#include <sodium.h>

#include "sealdrop/sealdrop.h"

int sd_init(void)
{
	if (sodium_init() < 0)
		return sd_error(SD_ERR_INTERNAL, "libsodium could not be initialised");
	return 0;
}
