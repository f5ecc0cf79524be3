/*
 * sealdrop.h — libsealdrop's entry point: call sd_init() once before anything else.
 */
#ifndef SEALDROP_SEALDROP_H
#define SEALDROP_SEALDROP_H

#include "sealdrop/error.h"

#define SD_VERSION_STRING "0.1.0"

/* Initialises libsodium. 0, or SD_ERR_INTERNAL if the library cannot start. */
int sd_init(void) SD_WUR;

#endif
