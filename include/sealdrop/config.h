/*
 * config.h — sealdropd's configuration file, sealdropd.conf(5).
 *
 * A UTF-8 text file of `name value` (or `name = value`) lines; `#` starts a comment; a
 * value may be double-quoted to keep spaces. The parser reports every error at once, each
 * as "FILE:LINE: message" ("FILE: missing setting 'dir'" for what is absent), so
 * `sealdropd check-config` explains a broken file in one run. sd_config_write() prints a
 * configuration as a commented file that parses back to the same values: `sealdropd init`
 * writes it, and server/sealdropd.conf.example is its output for the defaults.
 *
 * The holiday table serves the case deadlines: a period that ends on a Saturday, a Sunday
 * or a listed public holiday ends on the next working day (Civil Act Art. 161).
 */
#ifndef SEALDROP_CONFIG_H
#define SEALDROP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sealdrop/date.h"
#include "sealdrop/error.h"

#define SD_CONFIG_MAX_BYTES        (1u << 20) /* the whole file */
#define SD_CONFIG_MAX_LINE         4096       /* bytes per line, without the line ending */
#define SD_CONFIG_MAX_HOLIDAYS     1000
#define SD_CONFIG_MAX_HOSTNAMES    64
#define SD_CONFIG_HOSTNAME_MAX     253 /* a DNS name, or an IPv4 / IPv6 address */
#define SD_CONFIG_HOLIDAY_NAME_MAX 128 /* bytes of UTF-8 */
#define SD_CONFIG_USER_MAX         32
#define SD_CONFIG_ADDR_MAX         46 /* INET6_ADDRSTRLEN */
/* DIR/control.sock must fit a Unix socket address (108 bytes with the NUL). */
#define SD_CONFIG_DIR_MAX 94
/* The largest chunk a package can hold: a report padded to 1 MiB, with its nonce and tag
 * (docs/FORMAT.md, "Manifest"). chunk_bytes may not be lower, or no package could be filed. */
#define SD_CONFIG_CHUNK_MIN ((1u << 20) + 24 + 16)
/* The state directory the example configuration names. */
#define SD_CONFIG_EXAMPLE_DIR "/var/lib/sealdrop"

typedef enum { SD_LOG_ERROR = 0, SD_LOG_WARN, SD_LOG_INFO, SD_LOG_DEBUG } sd_log_level_t;

typedef struct {
	sd_date_t date;
	char *name; /* UTF-8, 1..SD_CONFIG_HOLIDAY_NAME_MAX bytes, malloc'd */
} sd_holiday_t;

typedef struct sd_config {
	char *dir;                            /* absolute, no trailing '/', malloc'd; required */
	int listen_family;                    /* AF_INET or AF_INET6 */
	char listen_addr[SD_CONFIG_ADDR_MAX]; /* numeric and canonical, without brackets */
	uint16_t listen_port;                 /* 1..65535 */
	char **hostnames;                     /* lower case, unique; the server certificate's names */
	size_t n_hostnames;                   /* 1..SD_CONFIG_MAX_HOSTNAMES */
	char user[SD_CONFIG_USER_MAX + 1];    /* [a-z_][a-z0-9_-]{0,31}, never "root" */
	uint32_t head_interval;               /* seconds between signed tree heads */
	uint64_t max_header_bytes;            /* an upload's envelope header */
	uint64_t chunk_bytes;                 /* one chunk request's body */
	uint64_t max_package_bytes;           /* a whole package */
	uint64_t body_budget_bytes;           /* body bytes in flight over all connections */
	uint32_t max_connections;
	uint32_t max_connections_per_cert; /* <= max_connections */
	uint32_t max_uploads_per_account;  /* unfinished uploads at once */
	uint32_t request_timeout;          /* seconds from a request's first byte to its last */
	uint32_t idle_timeout;             /* seconds a kept-alive connection may wait */
	uint32_t slow_body_timeout;        /* seconds a body may go without progress */
	uint32_t header_timeout;           /* seconds for the TLS handshake, and for each request's head */
	uint64_t min_body_rate;            /* bytes a second a body must keep up after slow_body_timeout; 0: off */
	uint32_t upload_expiry_days;       /* unfinished uploads are removed after this */
	uint32_t anon_rate_per_minute;     /* requests per minute on whistleblower routes, all together */
	uint32_t pow_bits;                 /* hashcash difficulty of whistleblower requests */
	sd_log_level_t log_level;
	sd_holiday_t *holidays; /* sorted by date, dates unique */
	size_t n_holidays;
	uint32_t retention_days;  /* sealdropd retention: closed cases older than this go; 0 keeps them */
	uint64_t store_max_bytes; /* the most the store's map (its data file) may grow to */
} sd_config_t;

/* Receives each error, formatted "FILE:LINE: message", in line order. */
typedef void (*sd_config_report_fn)(void *ctx, const char *message);

/* Fills c with the defaults: every setting but dir (NULL), and the Korean public holidays
 * of 2026. 0, or SD_ERR_NOMEM (c is then empty). Free with sd_config_free(). */
int sd_config_defaults(sd_config_t *c) SD_WUR;

/* Parses len bytes of text (not necessarily NUL-terminated); filename names it in
 * messages. Settings absent from the text keep their defaults; a list setting present in
 * the text replaces its default list. Every error goes to report (which may be NULL) and
 * is counted in *n_errors (which may be NULL); the first one is also sd_error_detail().
 * Returns 0 with *out filled, SD_ERR_CONFIG if there was any error, or SD_ERR_NOMEM; on
 * failure *out is left empty, never half-filled. */
int sd_config_parse(const char *text, size_t len, const char *filename, sd_config_t *out, sd_config_report_fn report,
                    void *ctx, size_t *n_errors) SD_WUR;

/* Reads path (at most SD_CONFIG_MAX_BYTES, not writable by others) and parses it. A file
 * that cannot be read is reported and counted as one error, and its code returned
 * (SD_ERR_NOENT, SD_ERR_IO, SD_ERR_TOOBIG, SD_ERR_REFUSED for a world-writable file). */
int sd_config_load(const char *path, sd_config_t *out, sd_config_report_fn report, void *ctx, size_t *n_errors) SD_WUR;

/* Writes c as a configuration file: every setting, each under a comment saying what it
 * does, its bounds and its default. What it writes parses back to c (a NULL dir is
 * written as SD_CONFIG_EXAMPLE_DIR). 0, or SD_ERR_IO. */
int sd_config_write(FILE *f, const sd_config_t *c) SD_WUR;

/* True when every setting of a and b is the same. */
bool sd_config_equal(const sd_config_t *a, const sd_config_t *b);

/* The name of setting i in file order, or NULL past the last: for documentation checks. */
const char *sd_config_setting_name(size_t i);

/* Frees what c holds and empties it; an empty or zeroed c is fine. */
void sd_config_free(sd_config_t *c);

/* A holiday of the table (Saturdays and Sundays are not listed, only implied). */
bool sd_config_is_holiday(const sd_config_t *c, sd_date_t d);
/* Neither a Saturday, a Sunday nor a listed holiday. */
bool sd_config_is_working_day(const sd_config_t *c, sd_date_t d);
/* d if it is a working day, else the first working day after it (Civil Act Art. 161). */
sd_date_t sd_config_next_working_day(const sd_config_t *c, sd_date_t d);
/* The last day of a period of `days` days counted from `from`: the first day is not
 * counted (Civil Act Art. 157), and an end on a day off moves to the next working day
 * (Art. 161). days >= 0. */
sd_date_t sd_config_period_end(const sd_config_t *c, sd_date_t from, uint32_t days);
/* True if the table lists at least one holiday in that year: the server warns when the
 * current year has none, since deadlines would then ignore that year's holidays. */
bool sd_config_has_holidays_in(const sd_config_t *c, int year);

#endif
