/*
 * unit_json.h — editing JSON documents by dotted path ("keys.intake.id",
 * "prior_filings.0.date") for the table-driven tests of the directory and the records.
 */
#ifndef SEALDROP_UNIT_JSON_H
#define SEALDROP_UNIT_JSON_H

#include <jansson.h>

#include "unit.h"

/* The parent of the path's last component; its name goes to last. */
static inline json_t *unit_json_walk(json_t *root, const char *path, char last[64])
{
	char buf[128], *save = NULL, *tok, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save)) != NULL) {
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10)) : json_object_get(cur, tok);
		assert_non_null(cur);
		tok = next;
	}
	snprintf(last, 64, "%s", tok);
	return cur;
}

/* Sets path to value (JSON text of any type), or deletes it (value NULL). An array
 * index one past the end appends. */
static inline void unit_json_set(json_t *root, const char *path, const char *value)
{
	char last[64];
	json_t *parent = unit_json_walk(root, path, last), *v = NULL;

	if (value != NULL)
		assert_non_null(v = json_loads(value, JSON_DECODE_ANY, NULL));
	if (json_is_array(parent)) {
		size_t i = strtoul(last, NULL, 10);
		assert_int_equal(v ? (i == json_array_size(parent) ? json_array_append_new(parent, v)
		                                                   : json_array_set_new(parent, i, v))
		                   : json_array_remove(parent, i),
		                 0);
	} else {
		assert_int_equal(v ? json_object_set_new(parent, last, v) : json_object_del(parent, last), 0);
	}
}

#endif
