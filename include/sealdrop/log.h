/*
 * log.h — sealdropd's log (server/log.c): stderr, or a file reopened on SIGHUP. Lines
 * carry a date, never a time of day, and never an address, a user agent, a secret or
 * report or identity data.
 */
#ifndef SEALDROP_LOG_H
#define SEALDROP_LOG_H

#include <stdbool.h>
#include "sealdrop/config.h"
#include "sealdrop/error.h"

void sd_log_set_level(sd_log_level_t level);
bool sd_log_is_enabled(sd_log_level_t level);
/* Sends the log to path (appending) instead of stderr; NULL keeps stderr. */
int sd_log_open(const char *path) SD_WUR;
/* The server chrooted into dir: a log file inside it is reopened by its new path. */
void sd_log_chroot(const char *dir);
/* Opens the log file again (after rotation); nothing to do for stderr. */
int sd_log_reopen(void) SD_WUR;
void sd_log_close(void);
void sd_log(sd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
