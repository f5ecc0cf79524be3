/*
 * consent.h — the whistleblower's consent to release their identity, its revocation, and
 * the offline file that carries either (DESIGN.md, "Consent-gated identity release";
 * docs/FORMAT.md, "Consent"). Pure: the client builds and signs, the server and the
 * attorney's client parse and check; no network, no store.
 *
 * A consent is a signed JSON document {"consent": {...}, "signature": {"sig"}} (purpose
 * `consent`, signed with the codename's consent key, subkey 2, whose public half the
 * package header carries; the header digest inside the body names the signer, so there
 * is no key id):
 *
 *   "consent": {"version": 1, "deployment", "header_digest", "scope" ("commission" |
 *               "agency:<id>"), "grantee_key" (base64 X25519), "grantee_key_id",
 *               "release_hash" (BLAKE2b-256 of the release), "issued", "expires"
 *               (valid through that day, KST; 1..365 days after issued), "nonce"}
 *
 * It travels with the release = crypto_box_seal(s_w, grantee_key), s_w being the
 * whistleblower's share, unwrapped from the header with the codename's share-wrap key
 * (subkey 4). A revocation {"revocation": {...}, "signature": {"sig"}} (purpose `revoke`)
 * names one consent by its id (BLAKE2b-256 of the signed consent body) or "all".
 *
 * Reading is in two steps because the signer's key is in a header the reader must first
 * find by the digest the document names: sd_consent_parse() (syntax and field rules),
 * then sd_consent_verify() against that header (digest, deployment, signature), then
 * sd_consent_check() (the server's stateless acceptance rules). Nonce freshness and
 * revocation state are the server's.
 */
#ifndef SEALDROP_CONSENT_H
#define SEALDROP_CONSENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/codename.h"
#include "sealdrop/date.h"
#include "sealdrop/directory.h"
#include "sealdrop/envelope.h"
#include "sealdrop/error.h"
#include "sealdrop/keys.h"

#define SD_CONSENT_VERSION        1
#define SD_CONSENT_MAX_BYTES      8192u  /* a signed consent or revocation document */
#define SD_CONSENT_FILE_MAX_BYTES 16384u /* an .sdc file */
#define SD_CONSENT_SHARE_BYTES    32     /* s_w */
#define SD_CONSENT_RELEASE_BYTES  80     /* crypto_box_seal of s_w */
#define SD_CONSENT_NONCE_BYTES    32
#define SD_CONSENT_ID_BYTES       32
#define SD_CONSENT_DEFAULT_DAYS   30
#define SD_CONSENT_MAX_DAYS       365
#define SD_CONSENT_SCOPE_MAX      (7 + SD_AGENCY_ID_MAX + 1) /* "agency:" id NUL */

typedef enum { SD_CONSENT_COMMISSION = 1, SD_CONSENT_AGENCY = 2 } sd_consent_scope_t;

typedef struct {
	uint32_t version;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint8_t header_digest[SD_HASH_BYTES];
	sd_consent_scope_t scope;
	char agency[SD_AGENCY_ID_MAX + 1]; /* the agency's id for SD_CONSENT_AGENCY, else "" */
	uint8_t grantee_pk[SD_KEY_PUBLIC_BYTES];
	uint8_t grantee_key_id[SD_KEY_ID_BYTES]; /* sd_key_id(identity or agency kind, grantee_pk) */
	uint8_t release_hash[SD_HASH_BYTES];
	sd_date_t issued;
	sd_date_t expires; /* the last day it is valid (KST) */
	uint8_t nonce[SD_CONSENT_NONCE_BYTES];
	uint8_t sig[64]; /* filled by sign and parse */
} sd_consent_t;

typedef struct {
	uint32_t version;
	char deployment[SD_DEPLOYMENT_MAX + 1];
	uint8_t header_digest[SD_HASH_BYTES];
	bool all;                                /* every consent on this package */
	uint8_t consent_id[SD_CONSENT_ID_BYTES]; /* when !all */
	sd_date_t date;
	uint8_t nonce[SD_CONSENT_NONCE_BYTES];
	uint8_t sig[64]; /* filled by sign and parse */
} sd_revocation_t;

/* --- scope and grantee --------------------------------------------------------------- */

/* "commission" or "agency:<id>" (id: 1..64 of a-z, 0-9, '-', not at either end) into
 * c->scope and c->agency. SD_ERR_USAGE otherwise. */
int sd_consent_scope_set(sd_consent_t *c, const char *text) SD_WUR;
/* The scope's text form. */
void sd_consent_scope_text(const sd_consent_t *c, char out[SD_CONSENT_SCOPE_MAX]);
/* The directory's key for c's scope: the identity key (commission) or the listed agency's
 * key. SD_ERR_REFUSED "agency 'x' is not in the directory" for an unknown agency. */
int sd_consent_directory_key(const sd_consent_t *c, const sd_directory_t *d, const sd_pubkey_t **out) SD_WUR;

/* --- the share ----------------------------------------------------------------------- */

/* s_w, unwrapped from h with the codename's share-wrap key (docs/FORMAT.md, "Preamble"):
 * SD_ERR_WRONG_KEY when wb is not the codename that sealed h (its consent key differs),
 * SD_ERR_VERIFY when the wrapped share does not open. s_w should be secret memory; it is
 * wiped on failure. */
int sd_consent_unwrap_share(const sd_header_t *h, const sd_codename_keys_t *wb,
                            uint8_t s_w[SD_CONSENT_SHARE_BYTES]) SD_WUR;
/* The grantee's side: s_w from a release sealed to grantee's key (an identity or agency
 * secret key), after checking that the key is c's grantee and that the release hashes to
 * c->release_hash. SD_ERR_WRONG_KEY, SD_ERR_VERIFY; s_w wiped on failure. */
int sd_consent_release_open(const sd_consent_t *c, const uint8_t *release, size_t len, const sd_seckey_t *grantee,
                            uint8_t s_w[SD_CONSENT_SHARE_BYTES]) SD_WUR;

/* --- consent ------------------------------------------------------------------------- */

typedef struct {
	const sd_codename_keys_t *wb; /* the codename that sealed h */
	const sd_header_t *h;         /* the package, parsed (its signature verified) */
	const sd_directory_t *dir;    /* verified: the only source of the grantee key */
	const char *scope;            /* "commission" or "agency:<id>" */
	sd_date_t issued;             /* today (KST) */
	uint32_t days;                /* 1..SD_CONSENT_MAX_DAYS; 0: SD_CONSENT_DEFAULT_DAYS */
} sd_consent_params_t;

/* The consent grant would sign, without the release hash, nonce and signature: what
 * sd_consent_explain() shows before the whistleblower confirms. Checks h's deployment
 * against dir, that wb sealed h, the scope and days, and finds the grantee key in dir. */
int sd_consent_prepare(const sd_consent_params_t *p, sd_consent_t *out) SD_WUR;
/* Builds and signs a consent (sd_consent_prepare()'s checks): checks h's deployment against dir and that wb sealed h,
 * looks the grantee key up in dir, unwraps s_w, seals it to the grantee (release), draws
 * a random nonce. out (optional) receives the signed record, *json_out (malloc'd) the
 * document, release the release. */
int sd_consent_grant(const sd_consent_params_t *p, sd_consent_t *out, char **json_out,
                     uint8_t release[SD_CONSENT_RELEASE_BYTES]) SD_WUR;
/* Signs a filled record (field rules first, SD_ERR_INVALID) with the consent secret key
 * (libsodium form), sets c->sig and writes the document: for vectors and for grant. */
int sd_consent_sign(sd_consent_t *c, const uint8_t consent_sk[64], char **json_out) SD_WUR;
/* The document of an already signed record (as sign wrote it). */
int sd_consent_format(const sd_consent_t *c, char **json_out) SD_WUR;

/* Syntax and field rules, no signature (the signer is in the header the document names):
 * SD_ERR_FORMAT naming the field, SD_ERR_VERSION, SD_ERR_TOOBIG. out zeroed on failure. */
int sd_consent_parse(const uint8_t *json, size_t len, sd_consent_t *out) SD_WUR;
/* c belongs to h and h's consent key signed it: SD_ERR_VERIFY ("for another package",
 * "signature does not verify"), SD_ERR_DEPLOYMENT. */
int sd_consent_verify(const sd_consent_t *c, const sd_header_t *h) SD_WUR;
/* The server's stateless acceptance rules, in this order: deployment is d's
 * (SD_ERR_DEPLOYMENT); the grantee key is d's key for the scope (SD_ERR_REFUSED for an
 * unknown agency, SD_ERR_WRONG_KEY for another key); the release is 80 bytes hashing to
 * release_hash (SD_ERR_VERIFY); issued is not after today (SD_ERR_INVALID); today is
 * not after expires (SD_ERR_EXPIRED). */
int sd_consent_check(const sd_consent_t *c, const sd_directory_t *d, const uint8_t *release, size_t release_len,
                     sd_date_t today) SD_WUR;
/* Live on `today`: issued <= today <= expires. */
bool sd_consent_is_live(const sd_consent_t *c, sd_date_t today);
/* The consent id: BLAKE2b-256 of the signed body's canonical bytes (what revocations
 * name, and the digest of the consent's audit leaf). */
int sd_consent_id(const sd_consent_t *c, uint8_t id[SD_CONSENT_ID_BYTES]) SD_WUR;

/* Decree Art. 7(2): what the consent allows, to whom, until when, how to revoke it, in
 * Korean then English (*out malloc'd). dir names the agency; c need not be signed yet. */
int sd_consent_explain(const sd_consent_t *c, const sd_directory_t *dir, char **out) SD_WUR;

/* --- revocation ---------------------------------------------------------------------- */

/* Builds and signs a revocation of consent_id (NULL: all) for h by the codename wb
 * (SD_ERR_WRONG_KEY when wb did not seal h), dated `date`, with a random nonce. */
int sd_revocation_make(const sd_codename_keys_t *wb, const sd_header_t *h, const uint8_t *consent_id, sd_date_t date,
                       sd_revocation_t *out, char **json_out) SD_WUR;
int sd_revocation_sign(sd_revocation_t *rv, const uint8_t consent_sk[64], char **json_out) SD_WUR;
int sd_revocation_format(const sd_revocation_t *rv, char **json_out) SD_WUR;
int sd_revocation_parse(const uint8_t *json, size_t len, sd_revocation_t *out) SD_WUR;
int sd_revocation_verify(const sd_revocation_t *rv, const sd_header_t *h) SD_WUR;
/* Deployment is d's; date not after today (SD_ERR_INVALID). Never refused for age: a
 * revocation relayed late must still work; the nonce stops replays. */
int sd_revocation_check(const sd_revocation_t *rv, const sd_directory_t *d, sd_date_t today) SD_WUR;
/* BLAKE2b-256 of the signed body's canonical bytes (the revocation's audit digest). */
int sd_revocation_id(const sd_revocation_t *rv, uint8_t id[SD_CONSENT_ID_BYTES]) SD_WUR;
/* What revoking does and does not undo, Korean then English (*out malloc'd). */
int sd_revocation_explain(const sd_revocation_t *rv, char **out) SD_WUR;

/* --- the offline file (.sdc) --------------------------------------------------------- */

typedef enum { SD_CONSENT_FILE_CONSENT = 1, SD_CONSENT_FILE_REVOCATION = 2 } sd_consent_file_kind_t;

typedef struct {
	sd_consent_file_kind_t kind;
	sd_consent_t consent; /* kind consent: parsed, not yet verified */
	uint8_t release[SD_CONSENT_RELEASE_BYTES];
	sd_revocation_t revocation; /* kind revocation: parsed, not yet verified */
} sd_consent_file_t;

/* {"type": "sealdrop-consent", "version": 1, "consent": <document>, "release": base64}
 * or {"type": "sealdrop-revocation", "version": 1, "revocation": <document>}, from signed
 * records: *out malloc'd, newline-terminated. */
int sd_consent_file_encode(const sd_consent_t *c, const uint8_t release[SD_CONSENT_RELEASE_BYTES], char **out) SD_WUR;
int sd_revocation_file_encode(const sd_revocation_t *rv, char **out) SD_WUR;
/* Strict: at most SD_CONSENT_FILE_MAX_BYTES, known members only, the inner document
 * parsed as sd_consent_parse / sd_revocation_parse do. out zeroed on failure. The
 * release is only decoded (80 bytes): whether it hashes to the consent's release_hash is
 * sd_consent_check's (or sd_consent_release_open's) to say. */
int sd_consent_file_parse(const uint8_t *buf, size_t len, sd_consent_file_t *out) SD_WUR;

#endif
