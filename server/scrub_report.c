/*
 * scrub_report.c — what `sealdropd scrub` found: counters, one line per damaged item as
 * it is found, and a bounded list for --json (include/sealdrop/scrub.h). Pure: no store,
 * no server, so tests/unit/test_scrub.c checks it directly. Start at sd_scrub_damage().
 * The printed lines are translated (the formats and the labels marked N_() by the
 * callers); the JSON items and sd_scrub_summary() stay English, for scripts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sealdrop/scrub.h"
#include "cmd.h"

int sd_scrub_report_init(sd_scrub_report_t *rep, FILE *lines)
{
	memset(rep, 0, sizeof(*rep));
	rep->lines = lines;
	if ((rep->items = json_array()) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory");
	return 0;
}

void sd_scrub_report_clear(sd_scrub_report_t *rep)
{
	json_decref(rep->items);
	memset(rep, 0, sizeof(*rep));
}

static const char *kind_name(sd_scrub_kind_t kind)
{
	return kind == SD_SCRUB_CASE ? "case" : kind == SD_SCRUB_UPLOAD ? "upload" : "log";
}

/* A decoder's detail may quote the bytes around a JSON error (jansson's "near '...'"):
 * in a damaged record those can be part of a name, so the quote is cut off. */
static void cut_quote(char *problem)
{
	char *near = strstr(problem, " near '");

	if (near != NULL)
		snprintf(near, strlen(near) + 1, "%s", strchr(near, ')') != NULL ? ")" : "");
}

void sd_scrub_damage(sd_scrub_report_t *rep, sd_scrub_kind_t kind, const char *subject, const char *what,
                     const char *fmt, ...)
{
	char problem[SD_SCRUB_PROBLEM_MAX], line[SD_SCRUB_PROBLEM_MAX];
	json_t *item;
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	if (rep->lines != NULL) /* the operator's language; the JSON item stays English */
		vsnprintf(line, sizeof(line), _(fmt), aq);
	va_end(aq);
	va_end(ap);
	cut_quote(problem);
	rep->damaged++;
	if (kind == SD_SCRUB_CASE && strcmp(subject, rep->last_case) != 0) {
		rep->damaged_cases++;
		snprintf(rep->last_case, sizeof(rep->last_case), "%s", subject);
	}
	if (rep->lines != NULL) {
		cut_quote(line);
		fprintf(rep->lines, "%s: %s: %s\n", kind == SD_SCRUB_LOG ? _(subject) : subject, _(what), line);
	}
	if (json_array_size(rep->items) >= SD_SCRUB_ITEMS_MAX) {
		rep->left_off++;
		return;
	}
	item = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind_name(kind), "subject", subject, "what", what, "problem",
	                 problem);
	if (item == NULL || json_array_append_new(rep->items, item) < 0)
		rep->left_off++; /* out of memory: still counted */
}

void sd_scrub_summary(const sd_scrub_report_t *rep, char *out, size_t cap)
{
	int n = snprintf(out, cap,
	                 "scrub: %llu case%s, %llu chunk%s (%llu bytes), %llu record%s checked: %llu damaged in %llu "
	                 "case%s",
	                 (unsigned long long)rep->cases, rep->cases == 1 ? "" : "s", (unsigned long long)rep->chunks,
	                 rep->chunks == 1 ? "" : "s", (unsigned long long)rep->bytes, (unsigned long long)rep->records,
	                 rep->records == 1 ? "" : "s", (unsigned long long)rep->damaged,
	                 (unsigned long long)rep->damaged_cases, rep->damaged_cases == 1 ? "" : "s");

	if (rep->uploads > 0 && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " (and %llu upload%s in progress checked)",
		         (unsigned long long)rep->uploads, rep->uploads == 1 ? "" : "s");
}

json_t *sd_scrub_report_json(const sd_scrub_report_t *rep)
{
	char summary[256];

	sd_scrub_summary(rep, summary, sizeof(summary));
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:I, s:s}", "ok", rep->damaged == 0, "cases",
	                 (json_int_t)rep->cases, "uploads", (json_int_t)rep->uploads, "chunks", (json_int_t)rep->chunks,
	                 "bytes", (json_int_t)rep->bytes, "records", (json_int_t)rep->records, "damaged",
	                 (json_int_t)rep->damaged, "damaged_cases", (json_int_t)rep->damaged_cases, "items", rep->items,
	                 "left_off", (json_int_t)rep->left_off, "summary", summary);
}
