/*
 * fuzz_config.c — libFuzzer target for sealdropd.conf(5): sd_config_parse() on arbitrary
 * bytes. Every error message must name the file; a count of zero must mean success. What
 * the parser accepts must survive sd_config_write() and a second parse unchanged (the
 * written text a fixed point), and the holiday calendar must answer with a working day.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/config.h"

static size_t reported;

static void check_message(void *ctx, const char *message)
{
	(void)ctx;
	if (strncmp(message, "fuzz:", 5) != 0 || strlen(message) < 7)
		abort();
	reported++;
}

static char *write_text(const sd_config_t *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		abort();
	if (sd_config_write(f, c) != 0)
		abort();
	fclose(f);
	return buf;
}

static void check_calendar(const sd_config_t *c)
{
	static const sd_date_t probes[] = {{2026, 9, 24}, {2026, 2, 14}, {2000, 1, 1}, {9999, 12, 25}};

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		sd_date_t n = sd_config_period_end(c, probes[i], 7);
		if (!sd_config_is_working_day(c, n) || sd_date_cmp(n, sd_date_add_days(probes[i], 7)) < 0)
			abort();
	}
	for (size_t i = 0; i < c->n_holidays; i++)
		if (!sd_config_is_holiday(c, c->holidays[i].date) ||
		    !sd_config_has_holidays_in(c, c->holidays[i].date.y))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_config_t c, back;
	size_t errors = 0, len, len2;
	char *text, *again;
	int r;

	reported = 0;
	r = sd_config_parse((const char *)data, size, "fuzz", &c, check_message, NULL, &errors);
	if (r == SD_ERR_NOMEM)
		return 0;
	if ((r == 0) != (errors == 0) || errors != reported || (r != 0 && r != SD_ERR_CONFIG))
		abort();
	if (r != 0) {
		if (c.dir != NULL || c.hostnames != NULL || c.holidays != NULL)
			abort();
		return 0;
	}
	check_calendar(&c);
	text = write_text(&c, &len);
	if (sd_config_parse(text, len, "fuzz", &back, NULL, NULL, NULL) != 0 || !sd_config_equal(&c, &back))
		abort();
	again = write_text(&back, &len2);
	if (len2 != len || strcmp(again, text) != 0)
		abort();
	free(again);
	free(text);
	sd_config_free(&back);
	sd_config_free(&c);
	return 0;
}
