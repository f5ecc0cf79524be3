/*
 * directory.h — the signed key directory (DESIGN.md, Keys; docs/FORMAT.md, "Directory").
 *
 * A JSON document {"signed": {...}, "signature": {"key_id": hex, "key": base64, "sig": base64}}
 * ("key", the root public key, is optional for readers) where the
 * signature (purpose `directory`, root key) is over the compact, key-sorted serialisation
 * of "signed" (jansson JSON_COMPACT|JSON_SORT_KEYS). Clients trust only what the pinned
 * root key signed, refuse a directory past its not-after date, and refuse one whose
 * version is lower than the highest they have seen for that deployment and root.
 */
#ifndef SEALDROP_DIRECTORY_H
#define SEALDROP_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_DEPLOYMENT_MAX            64 /* [a-z0-9-], 1..64 characters */
#define SD_AGENCY_ID_MAX             64 /* [a-z0-9-], 1..64 */
#define SD_AGENCY_NAME_MAX           256
#define SD_DIRECTORY_MAX_AGENCIES    256
#define SD_DIRECTORY_MAX_BYTES       (1 << 20)
#define SD_DIRECTORY_MAX_LOG_RETIRED 16 /* log keys that signed documents in the past */

typedef struct {
	char id[SD_AGENCY_ID_MAX + 1];
	char name[SD_AGENCY_NAME_MAX + 1]; /* UTF-8 */
	sd_pubkey_t key;                   /* kind SD_KEY_AGENCY */
} sd_agency_t;

typedef struct {
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint32_t version; /* >= 1 */
	sd_date_t issued;
	sd_date_t not_after;
	bool test; /* lowers the codename KDF floor; clients warn loudly */
	sd_kdf_limits_t codename_kdf;
	sd_pubkey_t intake;
	sd_pubkey_t identity;
	bool has_log;
	sd_pubkey_t log; /* optional until the server exists */
	/* keys.log_retired: earlier log keys, still trusted for the receipts, notices and export
	 * receipts they signed (never for a tree head); only with a log key, none twice, never
	 * the current one (docs/FORMAT.md, "Directory"). */
	size_t n_log_retired;
	sd_pubkey_t log_retired[SD_DIRECTORY_MAX_LOG_RETIRED];
	char *tls_ca_pem; /* optional, malloc'd */
	size_t n_agencies;
	sd_agency_t *agencies;            /* malloc'd */
	uint8_t root_id[SD_KEY_ID_BYTES]; /* the key that signed it (filled by parse) */
} sd_directory_t;

bool sd_deployment_is_valid(const char *s);

/* Signs d with the root key and returns the JSON text (malloc'd, pretty-printed, ends in
 * a newline). Checks d first: version >= 1, not_after after issued, codename limits at
 * least INTERACTIVE unless d->test, agency ids unique. */
int sd_directory_sign(const sd_directory_t *d, const sd_seckey_t *root, char **json_out) SD_WUR;

/* Parses, checks the signature against the pinned root, checks not_after >= today.
 * SD_ERR_FORMAT (with the offending field), SD_ERR_VERIFY, SD_ERR_EXPIRED. */
int sd_directory_parse(const uint8_t *json, size_t len, const sd_pubkey_t *root, sd_date_t today,
                       sd_directory_t **out) SD_WUR;
/* The root key a document says signed it (signature.key), without verifying anything:
 * for a server that pins the first directory's signer (trust on first use) and then
 * parses with it. SD_ERR_INVALID when the document does not name its key. */
int sd_directory_signer(const uint8_t *json, size_t len, sd_pubkey_t *out) SD_WUR;
int sd_directory_load(const char *path, const sd_pubkey_t *root, sd_date_t today, sd_directory_t **out) SD_WUR;

/* Anti-rollback: compares d->version with the highest version recorded for (root,
 * deployment) under state_dir (NULL: $XDG_STATE_HOME/sealdrop, else ~/.local/state/sealdrop)
 * and records a higher one. SD_ERR_ROLLBACK if lower. */
int sd_directory_check_version(const sd_directory_t *d, const char *state_dir) SD_WUR;

/* The log key d trusts for a document (a receipt, a notice, an export receipt) signed by
 * the key with this id: the current log key or one of keys.log_retired; NULL for any other
 * id, or without a log key. A tree head is trusted only from d->log. */
const sd_pubkey_t *sd_directory_log_key(const sd_directory_t *d, const uint8_t id[SD_KEY_ID_BYTES]);
/* The same for the key a signed document's signature.key_id names (read, not verified):
 * d->log when it names no key d trusts or cannot be read, so that the verification which
 * follows says which key signed it. NULL without a log key. */
const sd_pubkey_t *sd_directory_doc_log_key(const sd_directory_t *d, const uint8_t *json, size_t len);
/* signature.key_id of a signed document, without verifying anything. SD_ERR_FORMAT when
 * the document has none. */
int sd_directory_doc_key_id(const uint8_t *json, size_t len, uint8_t id[SD_KEY_ID_BYTES]) SD_WUR;

const sd_agency_t *sd_directory_find_agency(const sd_directory_t *d, const char *id);
void sd_directory_free_(sd_directory_t *d);
#define sd_directory_free(d)                                                                                           \
	do {                                                                                                           \
		sd_directory_free_(d);                                                                                 \
		(d) = NULL;                                                                                            \
	} while (0)

#endif
