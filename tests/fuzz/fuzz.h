/*
 * fuzz.h — what every libFuzzer target shares: the entry points' prototypes and the
 * one-time library start-up (LLVMFuzzerInitialize runs once, before the first input).
 * Include it in exactly one file per target.
 */
#ifndef SEALDROP_FUZZ_H
#define SEALDROP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sealdrop/sealdrop.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sd_init() != 0)
		abort();
	return 0;
}

#endif
