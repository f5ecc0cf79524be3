/*
 * accounts.h — the enrolled accounts: certificate fingerprint → role, unique name,
 * enabled, optional X25519 box key (DESIGN.md, Roles, Server API).
 *
 * The store holds the records (databases "accounts": fingerprint → record, and
 * "account_names": name → fingerprint; "revoked": serial → date, for the CRL). The
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
const sd_account_t *sd_accounts_find_name(const sd_accounts_t *a, const char *name);
size_t sd_accounts_count(const sd_accounts_t *a);
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
