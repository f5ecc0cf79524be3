/*
 * router.c — finds a request's route in a table (include/sealdrop/route.h), and the
 * role names. Pure functions: the table itself is server/routes.c.
 *
 * Start at sd_route_match(). A pattern is matched segment by segment against the path
 * exactly as the client sent it: nothing is percent-decoded, so "%2F" can never turn
 * into a separator and an encoded byte never satisfies a {parameter}, whose characters
 * are only [A-Za-z0-9._~-]. An empty segment (a trailing or doubled slash) matches
 * nothing.
 */
#include <stdio.h>
#include <string.h>

#include "sealdrop/route.h"

static const struct {
	sd_role_t role;
	const char *name;
} role_names[] = {
        {SD_ROLE_ATTORNEY, "attorney"},
        {SD_ROLE_OFFICER, "officer"},
        {SD_ROLE_CUSTODIAN, "custodian"},
        {SD_ROLE_OPERATOR, "operator"},
};

const char *sd_role_name(sd_role_t role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return NULL;
}

bool sd_role_from_name(const char *name, sd_role_t *out)
{
	for (size_t i = 0; name != NULL && i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(role_names[i].name, name) == 0) {
			if (out != NULL)
				*out = role_names[i].role;
			return true;
		}
	}
	return false;
}

static bool is_param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '~' || c == '-';
}

/* Length of the segment at s: up to the next '/' or the end. */
static size_t segment_len(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash != NULL ? (size_t)(slash - s) : strlen(s);
}

/* One segment of a pattern against one of the path: a literal must be equal, a
 * {name} takes a non-empty run of parameter characters, at most SD_ROUTE_PARAM_MAX. */
static bool segment_match(const char *pat, size_t plen, const char *seg, size_t slen, sd_route_params_t *params)
{
	if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
		if (slen == 0 || slen > SD_ROUTE_PARAM_MAX || params->n >= SD_ROUTE_PARAMS_MAX)
			return false;
		for (size_t i = 0; i < slen; i++)
			if (!is_param_char(seg[i]))
				return false;
		memcpy(params->value[params->n], seg, slen);
		params->value[params->n++][slen] = '\0';
		return true;
	}
	return plen == slen && strncmp(pat, seg, plen) == 0;
}

static bool pattern_match(const char *pattern, const char *path, sd_route_params_t *params)
{
	params->n = 0;
	if (pattern[0] != '/' || path[0] != '/')
		return false;
	for (;;) {
		size_t plen, slen;

		pattern++;
		path++;
		plen = segment_len(pattern);
		slen = segment_len(path);
		if (!segment_match(pattern, plen, path, slen, params))
			return false;
		pattern += plen;
		path += slen;
		if (*pattern == '\0' || *path == '\0')
			return *pattern == '\0' && *path == '\0';
	}
}

/* Adds method to the comma-separated list in allow, once; a list that would not fit
 * is left as it is (the answer is still 405). */
static void allow_add(char *allow, size_t cap, const char *method)
{
	size_t n = strlen(allow), m = strlen(method);
	const char *at = allow;

	while ((at = strstr(at, method)) != NULL) {
		if ((at == allow || at[-1] == ' ') && (at[m] == ',' || at[m] == '\0'))
			return;
		at += m;
	}
	if (n + (n > 0 ? 2 : 0) + m < cap)
		snprintf(allow + n, cap - n, "%s%s", n > 0 ? ", " : "", method);
}

int sd_route_match(const sd_route_t *table, const char *method, const char *path, const sd_route_t **route,
                   sd_route_params_t *params, char *allow, size_t allow_cap)
{
	const char *want = method != NULL && strcmp(method, "HEAD") == 0 ? "GET" : method; /* HEAD is GET's */
	sd_route_params_t tmp;
	bool path_found = false;

	*route = NULL;
	params->n = 0;
	if (allow != NULL && allow_cap > 0)
		allow[0] = '\0';
	if (table == NULL || method == NULL || path == NULL)
		return sd_error(SD_ERR_USAGE, "no route table, method or path");
	for (const sd_route_t *r = table; r->method != NULL; r++) {
		if (!pattern_match(r->pattern, path, &tmp))
			continue;
		if (strcmp(r->method, want) == 0) {
			*route = r;
			*params = tmp;
			if (allow != NULL && allow_cap > 0)
				allow[0] = '\0';
			return 0;
		}
		path_found = true;
		if (allow != NULL && allow_cap > 0) {
			allow_add(allow, allow_cap, r->method);
			if (strcmp(r->method, "GET") == 0)
				allow_add(allow, allow_cap, "HEAD"); /* HEAD is GET's */
		}
	}
	if (path_found)
		return sd_error(SD_ERR_REFUSED, "the path takes other methods than this one");
	return sd_error(SD_ERR_NOENT, "no route for this path");
}

/* --- Query strings ---------------------------------------------------------------------------- */

/* One "name=value" part, n bytes at p, into out. */
static int query_part(const char *p, size_t n, const char *const names[], sd_query_t *out)
{
	const char *eq = memchr(p, '=', n);
	size_t klen, vlen;

	if (eq == NULL)
		return sd_error(SD_ERR_FORMAT, "a query part has no '='");
	klen = (size_t)(eq - p);
	vlen = n - klen - 1;
	for (size_t i = 0; names[i] != NULL && i < SD_QUERY_PARAMS_MAX; i++) {
		if (strlen(names[i]) != klen || strncmp(names[i], p, klen) != 0)
			continue;
		if (out->present[i])
			return sd_error(SD_ERR_FORMAT, "the query names '%s' twice", names[i]);
		if (vlen == 0 || vlen > SD_ROUTE_PARAM_MAX)
			return sd_error(SD_ERR_FORMAT, "the query's '%s' is empty or too long", names[i]);
		for (size_t j = 0; j < vlen; j++) {
			if (!is_param_char(eq[1 + j]))
				return sd_error(SD_ERR_FORMAT,
				                "the query's '%s' has a character outside [A-Za-z0-9._~-]", names[i]);
		}
		memcpy(out->value[i], eq + 1, vlen);
		out->value[i][vlen] = '\0';
		out->present[i] = true;
		return 0;
	}
	return sd_error(SD_ERR_FORMAT, "the query has an unknown parameter");
}

int sd_query_parse(const char *q, const char *const names[], sd_query_t *out)
{
	*out = (sd_query_t){0};
	if (q == NULL || q[0] == '\0')
		return 0;
	for (;;) {
		const char *amp = strchr(q, '&');
		size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		int r = query_part(q, n, names, out);
		if (r < 0)
			return r;
		if (amp == NULL)
			return 0;
		q = amp + 1;
	}
}

int sd_query_u64(const sd_query_t *q, size_t i, uint64_t max, uint64_t *out)
{
	const char *v = q->value[i];
	uint64_t n = 0;

	if (i >= SD_QUERY_PARAMS_MAX || !q->present[i])
		return sd_error(SD_ERR_NOENT, "the query lacks a parameter");
	if (v[0] == '0' && v[1] != '\0')
		return sd_error(SD_ERR_FORMAT, "a number in the query has a leading zero");
	for (size_t j = 0; v[j] != '\0'; j++) {
		if (v[j] < '0' || v[j] > '9')
			return sd_error(SD_ERR_FORMAT, "a number in the query has a non-digit");
		if (n > (max - (uint64_t)(v[j] - '0')) / 10)
			return sd_error(SD_ERR_TOOBIG, "a number in the query is above %llu", (unsigned long long)max);
		n = n * 10 + (uint64_t)(v[j] - '0');
	}
	*out = n;
	return 0;
}
