/*
 * date.c — calendar dates in Korea Standard Time. Case data carries dates, never
 * timestamps; this is the only place that turns the clock into a date.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sealdrop/date.h"
#include "sealdrop/error.h"

#define KST_OFFSET_SECONDS (9 * 3600)

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool sd_date_is_valid(int y, int m, int d)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1800 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= days[m - 1] + (m == 2 && is_leap(y));
}

int sd_date_parse(const char *s, sd_date_t *out)
{
	int v[3] = {0, 0, 0};
	static const int width[3] = {4, 2, 2};
	const char *p = s;

	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < width[f]; i++, p++) {
			if (*p < '0' || *p > '9')
				return sd_error(SD_ERR_FORMAT, "'%s' is not a date of the form YYYY-MM-DD", s);
			v[f] = v[f] * 10 + (*p - '0');
		}
		if (f < 2 && *p++ != '-')
			return sd_error(SD_ERR_FORMAT, "'%s' is not a date of the form YYYY-MM-DD", s);
	}
	if (*p != '\0')
		return sd_error(SD_ERR_FORMAT, "'%s' is not a date of the form YYYY-MM-DD", s);
	if (!sd_date_is_valid(v[0], v[1], v[2]))
		return sd_error(SD_ERR_FORMAT, "%s is not a calendar date", s);
	*out = (sd_date_t){v[0], v[1], v[2]};
	return 0;
}

void sd_date_format(sd_date_t d, char out[SD_DATE_TEXT_BYTES])
{
	unsigned y = (unsigned)d.y % 10000u, m = (unsigned)d.m % 100u, dd = (unsigned)d.d % 100u;

	snprintf(out, SD_DATE_TEXT_BYTES, "%04u-%02u-%02u", y, m, dd);
}

/* Days from civil, after H. Hinnant's public-domain algorithm. */
int64_t sd_date_to_days(sd_date_t d)
{
	int64_t y = d.y - (d.m <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (d.m + (d.m > 2 ? -3 : 9)) + 2) / 5 + d.d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

sd_date_t sd_date_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	return (sd_date_t){(int)(y + (m <= 2)), (int)m, (int)d};
}

sd_date_t sd_date_add_days(sd_date_t d, int64_t n)
{
	return sd_date_from_days(sd_date_to_days(d) + n);
}

int sd_date_cmp(sd_date_t a, sd_date_t b)
{
	int64_t x = sd_date_to_days(a), y = sd_date_to_days(b);
	return (x > y) - (x < y);
}

uint32_t sd_date_to_u32(sd_date_t d)
{
	return (uint32_t)(d.y * 10000 + d.m * 100 + d.d);
}

int sd_date_from_u32(uint32_t v, sd_date_t *out)
{
	int y = (int)(v / 10000), m = (int)(v / 100 % 100), d = (int)(v % 100);

	if (!sd_date_is_valid(y, m, d))
		return sd_error(SD_ERR_FORMAT, "%u is not a calendar date", v);
	*out = (sd_date_t){y, m, d};
	return 0;
}

sd_date_t sd_date_today(void)
{
	time_t now = time(NULL);
	return sd_date_from_days((int64_t)(now + KST_OFFSET_SECONDS) / 86400);
}
