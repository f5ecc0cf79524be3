/*
 * control_int.h — the control socket's insides that its tests, its fuzz target and
 * `sealdropd init` share with server/control.c: the parsed form of one request (what
 * the server checks before it runs anything), the error words of a reply, and the CRL
 * URL every certificate names. The protocol itself: include/sealdrop/control.h and
 * docs/API.md, "Control socket".
 */
#ifndef SEALDROP_CONTROL_INT_H
#define SEALDROP_CONTROL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sealdrop/ca.h"
#include "sealdrop/config.h"
#include "sealdrop/control.h"
#include "sealdrop/route.h"

#define SD_CONTROL_BOX_KEY_BYTES 32
#define SD_CONTROL_TIMEOUT       30 /* seconds: a request's whole exchange, both sides */

typedef enum {
	SD_CONTROL_ENROLL = 1,
	SD_CONTROL_DISABLE,
	SD_CONTROL_DIRECTORY_INSTALL,
	SD_CONTROL_STATUS,
	SD_CONTROL_PUBLISH,
	SD_CONTROL_AUDIT_CHECK,
	SD_CONTROL_RETENTION,
	SD_CONTROL_RENEW,  /* a new certificate for an account (name, csr) */
	SD_CONTROL_REVOKE, /* one certificate of an account (fingerprint) */
} sd_control_op_t;

/* One request, checked: only the fields its op defines, each well-formed. */
typedef struct {
	sd_control_op_t op;
	sd_role_t role;              /* enroll */
	char name[SD_CA_NAME_BYTES]; /* enroll, disable: a valid certificate CN */
	const uint8_t *csr;          /* enroll, optional: the CSR text (NULL: the CA makes a key) */
	size_t csr_len;
	bool has_box_key; /* enroll, optional: an X25519 public key for notices */
	uint8_t box_pk[SD_CONTROL_BOX_KEY_BYTES];
	const uint8_t *directory; /* directory_install: the signed directory's JSON text */
	size_t directory_len;
	const uint8_t *expect_head; /* audit_check, optional: a signed head the operator kept */
	size_t expect_head_len;
	bool has_fingerprint; /* revoke: the certificate's SHA-256 fingerprint (64 hex) */
	uint8_t fingerprint[SD_CA_FINGERPRINT_BYTES];
	bool dry_run; /* retention, optional: list the due cases, destroy none */
	json_t *json; /* the parsed request: owns the text csr and directory point into */
} sd_control_req_t;

/* Parses one request line (without its newline). SD_ERR_TOOBIG beyond
 * SD_CONTROL_MAX_REQUEST or a field's own limit, SD_ERR_FORMAT when it is not a JSON
 * object, SD_ERR_INVALID for an unknown op, a missing, extra or malformed field; the
 * detail names the field. On success the caller clears req. */
int sd_control_parse_request(const uint8_t *line, size_t len, sd_control_req_t *req) SD_WUR;
void sd_control_req_clear(sd_control_req_t *req);

/* The error word a reply carries for err ("exists", "not_found", "refused", "invalid",
 * "internal"), and back: the code sd_control_call returns for a word. */
const char *sd_control_error_word(int err);
int sd_control_error_code(const char *word);

/* DIR/control.sock into *sa (and *path, for messages); SD_ERR_TOOBIG when too long. */
struct sockaddr_un;
int sd_control_socket_path(const char *dir, struct sockaddr_un *sa, const char **path) SD_WUR;

/* True when the last sd_control_call on this thread failed because no server answered
 * (nothing listens, or it did not reply in time): `sealdropd` then exits 69. */
bool sd_control_was_unreachable(void);

/* The CRL distribution point of every certificate the CA issues for this server:
 * https://<first hostname>:<port>/v1/crl (an IPv6 address in brackets). */
int sd_control_crl_url(const sd_config_t *c, char out[SD_CA_URL_MAX]) SD_WUR;

#endif
