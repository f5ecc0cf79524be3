/*
 * fuzz_route.c — libFuzzer target for what every request's target goes through before a
 * route sees it (server/router.c): sd_route_match() against the server's own table
 * (sd_routes), and sd_query_parse() / sd_query_u64() with the query names the routes use.
 *
 * Input: one byte (bits 0-2 the method, bits 3-4 which route's query names), then the
 * request target "path[?query]" up to the first NUL. The oracles: a matched path is its
 * pattern with the parameters put back (each non-empty, within SD_ROUTE_PARAM_MAX, of
 * the parameter characters), under the method asked for (HEAD as GET); a 405 names the
 * methods that would match, one of them never the one asked; a parsed query holds only
 * valid values, and each number sd_query_u64 accepts prints back to its text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/error.h"
#include "sealdrop/route.h"

#define TARGET_MAX 1024

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", ""};

/* The names lists of server/casework.c and server/logroutes.c. */
static const char *const cases_names[] = {"state", "overdue", "due_within", "after", NULL};
static const char *const inclusion_names[] = {"index", "size", NULL};
static const char *const consistency_names[] = {"from", "to", NULL};
static const char *const entries_names[] = {"start", "end", "case", NULL};
static const char *const *const name_sets[] = {cases_names, inclusion_names, consistency_names, entries_names};

static bool is_param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '~' || c == '-';
}

static bool value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > SD_ROUTE_PARAM_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_param_char(v[i]))
			return false;
	return true;
}

/* The pattern with {name}s replaced by the parameters, in order. */
static void rebuild(const char *pattern, const sd_route_params_t *p, char *out, size_t cap)
{
	size_t n = 0, k = 0;

	for (const char *s = pattern; *s != '\0';) {
		const char *end = *s == '{' ? strchr(s, '}') : NULL;
		if (end != NULL) {
			if (k >= p->n)
				abort();
			n += (size_t)snprintf(out + n, cap - n, "%s", p->value[k++]);
			s = end + 1;
		} else {
			n += (size_t)snprintf(out + n, cap - n, "%c", *s++);
		}
		if (n >= cap)
			abort();
	}
	if (k != p->n)
		abort();
}

static void check_match(const char *method, const char *path)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	const sd_route_t *route = NULL;
	sd_route_params_t params;
	char allow[64] = "", again[TARGET_MAX + 1];
	int r = sd_route_match(sd_routes, method, path, &route, &params, allow, sizeof(allow));

	if (r == 0) {
		if (route == NULL || strcmp(route->method, want) != 0)
			abort();
		for (size_t i = 0; i < params.n; i++)
			if (!value_ok(params.value[i]))
				abort();
		rebuild(route->pattern, &params, again, sizeof(again));
		if (strcmp(again, path) != 0)
			abort();
	} else if (r == SD_ERR_REFUSED) {
		if (allow[0] == '\0' || (want[0] != '\0' && strstr(allow, want) != NULL))
			abort(); /* a method that matches is not refused */
	} else if (r != SD_ERR_NOENT) {
		abort();
	}
}

static void check_query(const char *query, const char *const names[])
{
	sd_query_t q, back;
	char text[TARGET_MAX + 1] = "", num[24];
	size_t n = 0;
	uint64_t v;

	if (sd_query_parse(query, names, &q) != 0)
		return;
	for (size_t i = 0; names[i] != NULL; i++) {
		if (!q.present[i])
			continue;
		if (!value_ok(q.value[i]))
			abort();
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s=%s", n > 0 ? "&" : "", names[i], q.value[i]);
		if (n >= sizeof(text))
			abort();
		if (sd_query_u64(&q, i, UINT64_MAX, &v) == 0) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
			if (strcmp(num, q.value[i]) != 0)
				abort();
		}
		if (sd_query_u64(&q, i, 1000, &v) == 0 && v > 1000)
			abort();
	}
	/* the same parameters in the names' order parse to the same query */
	if (sd_query_parse(text, names, &back) != 0 || memcmp(&q, &back, sizeof(q)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char target[TARGET_MAX + 1], *query;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1 < TARGET_MAX ? size - 1 : TARGET_MAX;
	memcpy(target, data + 1, n);
	target[n] = '\0';
	query = strchr(target, '?');
	if (query != NULL)
		*query++ = '\0';
	check_match(methods[data[0] & 7], target);
	if (query != NULL)
		check_query(query, name_sets[(data[0] >> 3) & 3]);
	return 0;
}
