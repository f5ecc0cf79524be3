/*
 * accounts.h — the enrolled accounts: certificate fingerprint → role, unique name,
 * enabled, optional X25519 box key (DESIGN.md, Roles, Server API).
 *
 * An account is known by the fingerprint of its first certificate (what cases, uploads
 * and audit leaves name it by). A renewal adds a record for the new certificate that
 * names that first fingerprint ("account"); every certificate of an account works until
 * it is revoked on its own or the account is disabled. `enabled` is per certificate.
 *
 * The store holds the records (databases "accounts": fingerprint → record, and
 * "account_names": name → the first fingerprint; "revoked": serial → date, for the CRL). The
 * server keeps all of them in memory too — they are few, and a request must not wait
 * for the store to learn who is calling — and changes the memory copy only after the
 * store made a change durable. Record layout: docs/STORE.md.
 */
#ifndef SEALDROP_ACCOUNTS_H
#define SEALDROP_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/ca.h"
#include "sealdrop/date.h"
#include "sealdrop/error.h"
#include "sealdrop/route.h"
#include "sealdrop/store.h"

#define SD_ACCOUNTS_MAX 100000

typedef struct {
	uint8_t fingerprint[SD_CA_FINGERPRINT_BYTES];
	uint8_t serial[SD_CA_SERIAL_BYTES];
	char name[SD_CA_NAME_BYTES]; /* unique, case-sensitive UTF-8 */
	sd_role_t role;
	bool enabled;
	bool has_box_key;
	uint8_t box_pk[32]; /* X25519, for notices to an attorney (issue 5) */
	sd_date_t enrolled;
	sd_date_t disabled; /* meaningful when !enabled */
	int64_t cert_not_after;
	bool is_renewal;                          /* a later certificate of an account */
	uint8_t account[SD_CA_FINGERPRINT_BYTES]; /* is_renewal: the account's first fingerprint */
} sd_account_t;

typedef struct sd_accounts sd_accounts_t;

/* Reads every account and revocation from the store (sd_store_call: start-up only). */
int sd_accounts_load(sd_store_t *store, sd_accounts_t **out) SD_WUR;
void sd_accounts_free_(sd_accounts_t *a);
#define sd_accounts_free(a)                                                                                            \
	do {                                                                                                           \
		sd_accounts_free_(a);                                                                                  \
		(a) = NULL;                                                                                            \
	} while (0)

const sd_account_t *sd_accounts_find(const sd_accounts_t *a, const uint8_t fp[SD_CA_FINGERPRINT_BYTES]);
/* The account's first certificate's record, by name (names are unique among accounts). */
const sd_account_t *sd_accounts_find_name(const sd_accounts_t *a, const char *name);
/* The record of the account a certificate's record belongs to (acc itself unless a
 * renewal); NULL when a renewal names no account. */
const sd_account_t *sd_accounts_owner(const sd_accounts_t *a, const sd_account_t *acc);
/* True when some certificate of the account whose first record is owner is enabled. */
bool sd_accounts_is_live(const sd_accounts_t *a, const sd_account_t *owner);
/* How many certificates of the account can still be used (enabled). */
size_t sd_accounts_live_count(const sd_accounts_t *a, const sd_account_t *owner);
/* Accounts (people), and certificate records (what SD_ACCOUNTS_MAX bounds: a renewed
 * account has one per certificate). */
size_t sd_accounts_count(const sd_accounts_t *a);
size_t sd_accounts_cert_count(const sd_accounts_t *a);
/* The revoked serials, for the CRL and for sd_ca_verify_client. */
const sd_ca_revoked_t *sd_accounts_revoked(const sd_accounts_t *a, size_t *n);

/* Adds to req the operations that create account acc (failing with SD_ERR_EXISTS if
 * its name or fingerprint is taken). After the store answered 0, sd_accounts_added
 * updates the memory copy. */
int sd_accounts_req_add(sd_store_req_t *req, const sd_account_t *acc) SD_WUR;
int sd_accounts_added(sd_accounts_t *a, const sd_account_t *acc) SD_WUR;
/* The same for disabling: the record rewritten with enabled = false and the date, and
 * the certificate's serial put in "revoked". */
int sd_accounts_req_disable(sd_store_req_t *req, const sd_account_t *acc, sd_date_t today, int64_t now) SD_WUR;
int sd_accounts_disabled(sd_accounts_t *a, const uint8_t fp[SD_CA_FINGERPRINT_BYTES], sd_date_t today,
                         int64_t now) SD_WUR;
/* The whole account (owner: its first record): every enabled certificate of it disabled
 * and revoked as above. SD_ERR_USAGE when none is enabled. */
int sd_accounts_req_disable_account(sd_store_req_t *req, const sd_accounts_t *a, const sd_account_t *owner,
                                    sd_date_t today, int64_t now) SD_WUR;
int sd_accounts_disabled_account(sd_accounts_t *a, const uint8_t owner_fp[SD_CA_FINGERPRINT_BYTES], sd_date_t today,
                                 int64_t now) SD_WUR;

/* A new certificate for the live account owner: cert (fingerprint, serial, not-after,
 * date set by the caller) becomes a renewal record with owner's name, role and box key,
 * stored without overwriting, on condition that owner's record is unchanged. After the
 * store answered 0, sd_accounts_renewed adds it to the memory copy. */
int sd_accounts_req_renew(sd_store_req_t *req, const sd_account_t *owner, sd_account_t *cert) SD_WUR;
int sd_accounts_renewed(sd_accounts_t *a, const sd_account_t *cert) SD_WUR;

/* Who presents certificate der: verified against the CA (chain, validity, clientAuth,
 * role, not revoked), enrolled, enabled, and the certificate's role the account's.
 * SD_ERR_VERIFY (not issued by this CA: 401), SD_ERR_EXPIRED (401), SD_ERR_NOENT (not
 * enrolled: 403), SD_ERR_REFUSED (disabled or revoked: 403). */
int sd_accounts_authenticate(const sd_accounts_t *a, const sd_ca_t *ca, const uint8_t *der, size_t len, int64_t now,
                             sd_principal_t *out) SD_WUR;

/* Record encoding (docs/STORE.md), exposed for the fuzz target and tests. */
int sd_account_encode(const sd_account_t *acc, uint8_t **out, size_t *len) SD_WUR;
int sd_account_decode(const uint8_t *buf, size_t len, sd_account_t *out) SD_WUR;

#endif
