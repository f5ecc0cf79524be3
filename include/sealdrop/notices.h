/*
 * notices.h — the server's side of a case's notices (Decree Art. 11-4; docs/API.md,
 * "GET /v1/cases/{case}/notices" and "POST /v1/cases/{case}/notices"; server/notices.c).
 *
 * A notice (include/sealdrop/notice.h: three sealed boxes, signed by the log key) is
 * written in the same store request as what it tells of — the filing, a transition, an
 * officer's written notice — together with its audit leaf and the case record whose
 * counter `notices` numbers it, so a case never has a step without its notice nor a
 * notice without its leaf. Stored in "notices" under case number || seq (4 bytes
 * big-endian): the signed document, exactly as served (docs/STORE.md).
 *
 * The record's counter `notices` is the next notice's seq. sd_notices_req_step() takes
 * it and moves it on itself (the caller writes the record after it, in the same
 * request); with sd_notices_req_add() and sd_notices_req_standard() the caller does both.
 */
#ifndef SEALDROP_NOTICES_H
#define SEALDROP_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sealdrop/audit.h"
#include "sealdrop/caserec.h"
#include "sealdrop/error.h"
#include "sealdrop/notice.h"
#include "sealdrop/route.h"
#include "sealdrop/server.h"
#include "sealdrop/store.h"

#define SD_NOTICES_KEY_BYTES (SD_CASE_NUMBER_BYTES - 1 + 4) /* case number || seq u32 BE */

/* The "notices" key of notice seq of a case. */
void sd_notices_key(const char *case_number, uint32_t seq, uint8_t out[SD_NOTICES_KEY_BYTES]);

/* The filing attorney's enrolled box key (X25519), or NULL: the attorney registered
 * none, or the account is unknown or disabled (nothing is sealed to a revoked holder). */
const uint8_t *sd_notices_attorney_key(sd_server_t *s, const sd_case_rec_t *rec);

/* n's case, seq, date, kind and boxes set by the caller: fills its version and
 * deployment, signs it with the log key and adds to req the PUT of the signed document
 * into "notices" (no overwrite) and its audit leaf (event notice: the case, n's date,
 * digest = sd_notice_digest; acted by actor, or by the server itself when actor is
 * NULL). Returns the leaf's operation index (sd_store_req_log_index after the reply) or
 * a negative error; *json_out, when json_out is not NULL, the signed document (malloc'd). */
int sd_notices_req_add(sd_server_t *s, sd_store_req_t *req, sd_notice_t *n, const sd_principal_t *actor,
                       char **json_out) SD_WUR;

/* The standard notice of kind for case rec (sd_notice_standard_text with detail: the
 * agency for a referral, "inspection: NAME" or "investigation: NAME"; its name for a
 * forwarding; the reason's name for a termination; the conclusion date for a result;
 * else NULL), sealed to rec's notice key, the attorney's box key and the intake key,
 * numbered seq and dated date, then as sd_notices_req_add with the server as actor.
 * SD_ERR_NOENT when rec has no notice key (filed before notices existed): nothing is
 * added. */
int sd_notices_req_standard(sd_server_t *s, sd_store_req_t *req, const sd_case_rec_t *rec, uint32_t seq, sd_date_t date,
                            sd_notice_kind_t kind, const char *detail) SD_WUR;

/* sd_notices_req_standard in three steps, so that its sealing and signing — most of a
 * filing's CPU on the loop — can run on the worker (sd_server_work):
 *   sd_notices_standard_begin()  on the loop: copies what the notice needs from rec and
 *                                the server's state (the text, the keys, the deployment);
 *   sd_notices_standard_make()   on any thread: seals, signs, makes its audit event;
 *   sd_notices_standard_add()    on the loop: adds the PUT and the leaf to req, exactly
 *                                what sd_notices_req_standard adds (its result too).
 * sd_notices_job_clear frees what the job holds, after any step. */
typedef struct {
	sd_server_t *s;
	char *text;
	uint8_t notice_pk[32];
	bool has_attorney;
	uint8_t attorney_pk[32];
	sd_pubkey_t intake;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	sd_notice_t n;
	int status; /* make's result; its message in detail */
	char detail[256];
	char *json; /* the signed document */
	sd_audit_event_t ev;
} sd_notices_job_t;

int sd_notices_standard_begin(sd_server_t *s, const sd_case_rec_t *rec, uint32_t seq, sd_date_t date,
                              sd_notice_kind_t kind, const char *detail, sd_notices_job_t *job) SD_WUR;
void sd_notices_standard_make(sd_notices_job_t *job);
int sd_notices_standard_add(sd_store_req_t *req, sd_notices_job_t *job) SD_WUR;
void sd_notices_job_clear(sd_notices_job_t *job);

/* The standard notice of step, just applied to rec (a transition): its kind and what it
 * names follow from the step (the referred agency's name in the directory, the reason,
 * the conclusion date); numbered rec->notices, which is then incremented. Returns the
 * leaf's operation index; SD_ERR_NOENT when the step sends none (the whistleblower's
 * objection) or the case has no notice key, SD_ERR_TOOBIG when the case has
 * SD_CASE_NOTICES_MAX: nothing is added then. */
int sd_notices_req_step(sd_server_t *s, sd_store_req_t *req, sd_case_rec_t *rec, const sd_case_step_t *step) SD_WUR;

/* A case's notices as the lists show them (GET .../notices; the whistleblower's status):
 * entries {"seq", "kind", "date", "leaf_index", "notice"}, each with its audit leaf found
 * by digest among the case's leaves. */
typedef struct {
	json_t *list;
	uint8_t (*digests)[SD_NOTICE_DIGEST_BYTES]; /* of each entry that verified */
	bool *verified;                             /* by the log key, when stored */
	size_t n;
	uint64_t *leaves; /* the case's leaf indexes, as sd_notice_list_leaves asked for them */
	size_t n_leaves;
} sd_notice_list_t;

/* Op `op` of req, a scan of "notices", into l (cleared first). strict: a stored notice
 * that does not verify against the log key is an error (SD_ERR_INTERNAL); otherwise it
 * is listed as stored (kind and date null, the document as it is, or null when it is not
 * JSON) and never given a leaf, for its reader to refuse. */
int sd_notice_list_take(sd_server_t *s, sd_notice_list_t *l, const sd_store_req_t *req, size_t op, bool strict) SD_WUR;
/* Op `op` of req, a key scan of "case_events": adds to next one GET of each leaf of the
 * case, in order. */
int sd_notice_list_leaves(sd_notice_list_t *l, const sd_store_req_t *req, size_t op, sd_store_req_t *next) SD_WUR;
/* Ops first, first + 1, ... of req answer those GETs: each verified notice gets the index
 * of the notice leaf naming its digest (and with with_leaf the leaf, as "leaf": base64). */
void sd_notice_list_match(sd_notice_list_t *l, const sd_store_req_t *req, size_t first, bool with_leaf);
void sd_notice_list_clear(sd_notice_list_t *l);

/* GET /v1/cases/{case}/notices (officers, custodians; the filing attorney). */
void sd_route_case_notices(sd_request_t *r);
/* POST /v1/cases/{case}/notices (officers, custodians): a written notice. */
void sd_route_case_notice_post(sd_request_t *r);

#endif
