/*
 * record_int.h — what the server's record modules share and nobody else sees: the strict
 * JSON member readers of server/upload_record.c (used by server/caserec.c for the case
 * record) and the workflow's replay of a recorded step (server/workflow.c, used by the
 * case record's decoder).
 *
 * Every reader fails with SD_ERR_FORMAT and a detail "<rec> record: field '<name>' ...",
 * so a message names the record and the field that broke its rule.
 */
#ifndef SEALDROP_RECORD_INT_H
#define SEALDROP_RECORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/receipt.h"
#include "sealdrop/workflow.h"

/* Every member of obj is one of allowed (NULL-terminated). */
int record_only_fields(json_t *obj, const char *rec, const char *const allowed[]) SD_WUR;
/* A string of 1..max bytes; *out borrowed from obj. */
int record_member_text(json_t *obj, const char *rec, const char *name, size_t max, const char **out) SD_WUR;
/* Exactly 2 * len lower-case hex digits. */
int record_member_hex(json_t *obj, const char *rec, const char *name, uint8_t *out, size_t len) SD_WUR;
int record_member_date(json_t *obj, const char *rec, const char *name, sd_date_t *out) SD_WUR;
int record_member_case(json_t *obj, const char *rec, const char *name, char out[SD_CASE_NUMBER_BYTES]) SD_WUR;
/* "v" is the records' version (1); SD_ERR_VERSION for another. */
int record_member_version(json_t *obj, const char *rec) SD_WUR;
/* Parses an object of at most max bytes (SD_ERR_TOOBIG beyond); *out a new reference. */
int record_load_object(const uint8_t *buf, size_t len, size_t max, const char *rec, json_t **out) SD_WUR;
/* Serialises obj (consumed, may be NULL: SD_ERR_NOMEM) compact with sorted keys. */
int record_dump_object(json_t *obj, uint8_t **out, size_t *len) SD_WUR;

/* sd_case_flow_apply for a step read back from a record, with the step's own date as
 * today: every rule but the objection window's, which depends on the holiday table of
 * the day the step was taken (the table may have changed since; the step was checked
 * against it then). Needs no calendar. */
int workflow_replay(sd_case_flow_t *f, const sd_case_step_t *step) SD_WUR;

#endif
