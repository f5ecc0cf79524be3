/*
 * control.h — the operator's way into a running sealdropd: a Unix socket, DIR/control.sock,
 * mode 0600, whose peer must be root or the user that started the server (checked with
 * SO_PEERCRED), like OpenSMTPD's smtpctl socket (DESIGN.md, Architecture).
 *
 * Protocol: the client sends one JSON object on one line ({"op": "enroll", ...}), the
 * server answers one JSON object on one line ({"ok": true, ...} or {"ok": false,
 * "error": code, "message": text}) and closes. Every change goes through the store, so
 * it is durable before the answer. Operations and fields: docs/API.md, "Control socket".
 */
#ifndef SEALDROP_CONTROL_H
#define SEALDROP_CONTROL_H

#include <jansson.h>
#include "sealdrop/error.h"
#include "sealdrop/route.h"

#define SD_CONTROL_MAX_REQUEST (4u << 20) /* bytes of one request line */
#define SD_CONTROL_MAX_REPLY   (4u << 20)

typedef struct sd_control sd_control_t;

/* Creates and binds DIR/control.sock (0600), replacing a stale socket no server answers
 * on; SD_ERR_REFUSED when a server is already listening there. Called before the
 * privilege drop. *fd is a listening socket. */
int sd_control_bind(const char *dir, int *fd) SD_WUR;
/* Serves the socket on the server's loop. Takes ownership of fd. */
int sd_control_start(sd_server_t *s, int fd, sd_control_t **out) SD_WUR;
void sd_control_free_(sd_control_t *c);
#define sd_control_free(c)                                                                                             \
	do {                                                                                                           \
		sd_control_free_(c);                                                                                   \
		(c) = NULL;                                                                                            \
	} while (0)

/* Operator side: sends request to the server at DIR/control.sock and waits for the
 * answer (at most 30 s). SD_ERR_IO with "is sealdropd running?" when nothing listens;
 * when the server answers ok:false, returns SD_ERR_REFUSED (or the code the error word
 * maps to) with its message as the detail, and *reply still set. */
int sd_control_call(const char *dir, json_t *request, json_t **reply) SD_WUR;

#endif
