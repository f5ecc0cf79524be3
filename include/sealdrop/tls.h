/*
 * tls.h — sealdropd's TLS server context (OpenSSL 3), the only place TLS is configured.
 *
 * TLS 1.3 only: no TLS 1.2 or lower, no renegotiation, no compression, no session
 * tickets and no session cache (resumption would let the server link a client's
 * connections), SSL_CTX_set_num_tickets(ctx, 0). A client certificate is requested but
 * optional at the TLS layer: any certificate the client presents is accepted here, and
 * each route decides (sd_ca_verify_client, the account, the role), so that a missing or
 * foreign certificate gets a clear 401/403 in HTTP instead of a bare handshake alert.
 * The CA certificate is announced as the acceptable issuer.
 */
#ifndef SEALDROP_TLS_H
#define SEALDROP_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "sealdrop/error.h"

#define SD_TLS_FINGERPRINT_BYTES 32 /* SD_CA_FINGERPRINT_BYTES */

typedef struct sd_tls sd_tls_t;

/* Loads the server certificate and key (PEM files) and the CA certificate (PEM text).
 * SD_ERR_NOENT / SD_ERR_IO for unreadable files, SD_ERR_FORMAT for bad PEM, SD_ERR_INVALID
 * when key and certificate do not match. */
int sd_tls_server_new(const char *cert_path, const char *key_path, const char *ca_pem, sd_tls_t **out) SD_WUR;
void sd_tls_free_(sd_tls_t *t);
#define sd_tls_free(t)                                                                                                 \
	do {                                                                                                           \
		sd_tls_free_(t);                                                                                       \
		(t) = NULL;                                                                                            \
	} while (0)

/* A new server-side SSL for one accepted connection, or NULL when out of memory. */
SSL *sd_tls_ssl_new(sd_tls_t *t);

/* The certificate the peer presented, DER, malloc'd into *der; *der = NULL and *len = 0
 * when it presented none. 0 or SD_ERR_NOMEM. */
int sd_tls_peer_cert(SSL *ssl, uint8_t **der, size_t *len) SD_WUR;

/* The fingerprint of the certificate the peer presented: SHA-256 of its DER form, the
 * same bytes as sd_ca_fingerprint's, without parsing the certificate a second time
 * (OpenSSL parsed it in the handshake). SD_ERR_NOENT when it presented none. */
int sd_tls_peer_fingerprint(SSL *ssl, uint8_t out[SD_TLS_FINGERPRINT_BYTES]) SD_WUR;

/* The reason of the last failed handshake on this SSL, for a debug log line (never
 * logged with an address). */
const char *sd_tls_error_reason(SSL *ssl);

#endif
