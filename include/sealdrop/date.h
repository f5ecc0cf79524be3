/*
 * date.h — calendar dates, the only time granularity case data carries.
 *
 * sealdrop stores dates, never timestamps (DESIGN.md, Security posture). Dates are
 * proleptic Gregorian calendar dates in Korea Standard Time (UTC+9, no DST).
 */
#ifndef SEALDROP_DATE_H
#define SEALDROP_DATE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	int y, m, d;
} sd_date_t;

#define SD_DATE_TEXT_BYTES 11 /* "YYYY-MM-DD" + NUL */

bool sd_date_is_valid(int y, int m, int d);
/* Strict "YYYY-MM-DD", a real calendar date between 1800-01-01 and 9999-12-31. */
int sd_date_parse(const char *s, sd_date_t *out);
void sd_date_format(sd_date_t d, char out[SD_DATE_TEXT_BYTES]);
/* Days since 1970-01-01 (negative before). */
int64_t sd_date_to_days(sd_date_t d);
sd_date_t sd_date_from_days(int64_t days);
sd_date_t sd_date_add_days(sd_date_t d, int64_t n);
int sd_date_cmp(sd_date_t a, sd_date_t b); /* <0, 0, >0 */
/* YYYYMMDD as an integer: the wire form of a date. */
uint32_t sd_date_to_u32(sd_date_t d);
int sd_date_from_u32(uint32_t v, sd_date_t *out);
/* Today's date in Korea Standard Time. */
sd_date_t sd_date_today(void);

#endif
