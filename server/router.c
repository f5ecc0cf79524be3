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
		if (allow != NULL && allow_cap > 0)
			allow_add(allow, allow_cap, r->method);
	}
	if (path_found)
		return sd_error(SD_ERR_REFUSED, "the path takes other methods than this one");
	return sd_error(SD_ERR_NOENT, "no route for this path");
}
