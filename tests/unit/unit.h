/*
 * unit.h — what every cmocka unit test includes: cmocka's prerequisites in the right
 * order, libsealdrop, and a setup that initialises the library once.
 */
#ifndef SEALDROP_UNIT_H
#define SEALDROP_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>

#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"

static inline int unit_setup(void **state)
{
	(void)state;
	return sd_init() == 0 ? 0 : -1;
}

/* A key whose secret is the bytes first, first+1, ... (fixed keys for vectors). */
static inline sd_seckey_t *unit_key_from_byte(sd_key_kind_t kind, uint8_t first)
{
	uint8_t secret[SD_KEY_SECRET_BYTES];
	sd_seckey_t *k = NULL;

	for (int i = 0; i < SD_KEY_SECRET_BYTES; i++)
		secret[i] = (uint8_t)(first + i);
	assert_int_equal(sd_seckey_from_secret(kind, secret, &k), 0);
	return k;
}

/* Decodes a hex literal into buf (test vectors); fails the test on bad input. */
static inline void unit_hex(const char *hex, uint8_t *buf, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		buf[i] = (uint8_t)v;
	}
}

static inline int unit_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Removes a test's temporary directory and everything in it: 0, or nftw's failure. */
static inline int unit_rm_tree(const char *dir)
{
	return nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
