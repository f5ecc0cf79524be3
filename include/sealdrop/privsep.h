/*
 * privsep.h — the messages sealdropd's processes exchange over their socketpairs
 * (server/privsep.c; server/README.md, "Privilege separation"): today the front end and
 * the key process (server/keyproc.c), later the store process too.
 *
 * A message is a header, then its payload:
 *
 *   type    u32 LE   one of sd_privsep_type_t; any other value is a protocol violation
 *   length  u32 LE   bytes of payload, at most the type's maximum (sd_privsep_max)
 *   payload          the type's fixed binary layout (below), little-endian throughout
 *
 * A decoder takes exactly the payload's bytes: a short field, a left-over byte, a boolean
 * other than 0 or 1, a string over its field's size or holding a NUL, an unknown type or
 * a length over the maximum is SD_ERR_PROTOCOL. The peer that sees one logs it and stops
 * talking: a process that violates the protocol is treated as compromised or broken,
 * never answered.
 *
 * The key process signs structured objects, never bytes it is handed: each request is a
 * receipt, notice, tree head or export receipt in fields, which the key process rebuilds
 * and passes to the same crypto/ signing function (and its field checks) the server used
 * in-process. The answer is the signed JSON document, or REFUSED with the error code.
 */
#ifndef SEALDROP_PRIVSEP_H
#define SEALDROP_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sealdrop/error.h"
#include "sealdrop/export.h"
#include "sealdrop/loghead.h"
#include "sealdrop/notice.h"
#include "sealdrop/receipt.h"

#define SD_PRIVSEP_HEADER_BYTES 8
#define SD_PRIVSEP_STRING_MAX   255 /* bytes of any string field (each field has its own, lower, size) */

/* The numbers are the protocol: append, never renumber. 0x01xx: requests to the key
 * process; 0x81xx: its answers; 0x02xx / 0x82xx are kept for the store process. */
typedef enum {
	SD_PRIVSEP_READY = 0x0001,   /* child → parent, no payload: set up and sandboxed */
	SD_PRIVSEP_REFUSED = 0x0002, /* answer, payload i32 LE: a negative SD_ERR_* code */
	SD_PRIVSEP_SIGN_RECEIPT = 0x0101,
	SD_PRIVSEP_SIGN_NOTICE = 0x0102,
	SD_PRIVSEP_SIGN_HEAD = 0x0103,
	SD_PRIVSEP_SIGN_EXPORT = 0x0104,
	SD_PRIVSEP_SIGNED_RECEIPT = 0x8101, /* payload: the signed JSON document, no NUL */
	SD_PRIVSEP_SIGNED_NOTICE = 0x8102,
	SD_PRIVSEP_SIGNED_HEAD = 0x8103,
	SD_PRIVSEP_SIGNED_EXPORT = 0x8104,
	SD_PRIVSEP_STORE_REQUEST = 0x0201, /* payload: include/sealdrop/storewire.h, REQUEST */
	SD_PRIVSEP_STORE_FAILED = 0x0202,  /* store process → front end, instead of READY: i32 code | text */
	SD_PRIVSEP_STORE_REPLY = 0x8201,   /* payload: include/sealdrop/storewire.h, REPLY */
} sd_privsep_type_t;

#define SD_PRIVSEP_FAILURE_TEXT_MAX 511 /* bytes of a STORE_FAILED's text */

/* The largest payload of a type; -1 for a type this build does not know. */
long sd_privsep_max(uint32_t type);
/* The answer a signing request expects (SIGN_X → SIGNED_X); 0 for anything else. */
uint32_t sd_privsep_answer_type(uint32_t request);

/* --- framing: blocking I/O on a stream socket -------------------------------------------- */

/* Reads exactly n bytes, retrying on EINTR. SD_ERR_UNAVAILABLE when the peer closed before
 * the first byte (and *got == 0), SD_ERR_IO when it closed mid-way or read failed. */
int sd_privsep_read_full(int fd, uint8_t *buf, size_t n, size_t *got) SD_WUR;
int sd_privsep_write_full(int fd, const uint8_t *buf, size_t n) SD_WUR;
/* One message. */
int sd_privsep_send(int fd, uint32_t type, const uint8_t *payload, size_t len) SD_WUR;
/* The next message: *payload malloc'd (NULL for an empty one), the caller frees it.
 * SD_ERR_UNAVAILABLE: the peer closed between messages (a clean end); SD_ERR_IO: closed
 * or failed mid-message; SD_ERR_PROTOCOL: an unknown type or a length over its maximum. */
int sd_privsep_recv(int fd, uint32_t *type, uint8_t **payload, size_t *len) SD_WUR;

/* A buffered reader of messages, for a peer that sends many at once (the store process's
 * replies to a batch): one read takes in as many as are waiting, where sd_privsep_recv
 * makes two calls per message. Same checks, same errors. *payload points into the
 * reader's memory and stays valid until the next call; a message larger than the buffer
 * is read into memory of its own. One thread at a time. */
typedef struct {
	int fd;
	uint8_t *buf, *big;
	size_t cap, start, end;
} sd_privsep_reader_t;

int sd_privsep_reader_init(sd_privsep_reader_t *rd, int fd, size_t cap) SD_WUR;
int sd_privsep_reader_next(sd_privsep_reader_t *rd, uint32_t *type, const uint8_t **payload, size_t *len) SD_WUR;
void sd_privsep_reader_free(sd_privsep_reader_t *rd);

/* Messages gathered and written together with one writev when flushed (the store process
 * answers a whole batch at once). A message's payload is the batch's until the flush,
 * which frees it; a batch flushes itself when it holds SD_PRIVSEP_BATCH_MAX messages or
 * SD_PRIVSEP_BATCH_BYTES of payload. After a failed write the batch only frees. */
#define SD_PRIVSEP_BATCH_MAX   64
#define SD_PRIVSEP_BATCH_BYTES (1u << 20)

typedef struct {
	uint8_t head[SD_PRIVSEP_BATCH_MAX][SD_PRIVSEP_HEADER_BYTES];
	uint8_t *payload[SD_PRIVSEP_BATCH_MAX];
	size_t len[SD_PRIVSEP_BATCH_MAX];
	size_t n, bytes;
} sd_privsep_batch_t;

/* Adds a message; payload (malloc'd, or NULL when len is 0) now belongs to the batch,
 * whatever the outcome. An error is the flush's that adding made necessary. */
int sd_privsep_batch_add(sd_privsep_batch_t *b, int fd, uint32_t type, uint8_t *payload, size_t len) SD_WUR;
/* Writes every gathered message, in order, then frees their payloads; nothing to write is 0. */
int sd_privsep_batch_flush(sd_privsep_batch_t *b, int fd) SD_WUR;
/* Frees what is gathered without writing it. */
void sd_privsep_batch_drop(sd_privsep_batch_t *b);

/* A child's waitpid status in words: "exited with status N" or "killed by signal N
 * (SIGNAME)", saying so when SIGSYS means a system call outside its allow-list. */
void sd_privsep_describe_status(int status, char *out, size_t cap);

/* Waits up to timeout_ms for child pid to exit after its socket was closed, and kills it
 * (SIGKILL) if it has not: a child that hangs must not hold the server's exit for ever.
 * 0 with *status set (as waitpid's), or SD_ERR_INTERNAL when there is no such child. */
int sd_privsep_reap(pid_t pid, int *status, unsigned timeout_ms) SD_WUR;
/* The header's checks alone, on 8 bytes (for the tests and the fuzzer). */
int sd_privsep_header_decode(const uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], uint32_t *type, size_t *len) SD_WUR;

/* --- payloads -------------------------------------------------------------------------------- */

/*
 * Layouts (str = u16 length, then that many bytes, no NUL among them; box = u32 length,
 * then the bytes; bool = u8 0 or 1; date = u32 y*10000 + m*100 + d, a calendar date,
 * as sd_date_to_u32):
 *
 * SIGN_RECEIPT   u32 version | str deployment (≤ 64) | str case (≤ 11) | 32 header_digest |
 *                date received | date decision_due | str attorney (≤ 64) |
 *                bool has_leaf | u64 leaf_index | bool has_attorney_cert | 32 attorney_cert
 * SIGN_NOTICE    u32 version | str deployment | str case | u32 seq | date | u32 kind |
 *                box to_whistleblower | bool has_attorney | box to_attorney (absent when
 *                has_attorney is 0) | box to_commission       (each box 1..SD_NOTICE_BOX_MAX)
 * SIGN_HEAD      u32 version | str deployment | u64 size | 32 root | date
 * SIGN_EXPORT    u32 version | str deployment | str case | str agency (≤ 64) |
 *                8 agency_key_id | 32 header_digest | 32 bundle_digest | date | u64 leaf_index
 * SIGNED_*       the JSON text, 1..the document's maximum bytes, no NUL
 * REFUSED        i32 code, SD_ERR_PROTOCOL..-1
 *
 * log_key_id is never sent: the key process signs with the only key it has, and the
 * document names it. Each encoder returns a malloc'd payload; SD_ERR_INVALID when a
 * field does not fit its layout (a string too long, a box empty or too big).
 */
int sd_privsep_encode_receipt(const sd_receipt_t *rc, uint8_t **out, size_t *len) SD_WUR;
int sd_privsep_decode_receipt(const uint8_t *p, size_t len, sd_receipt_t *out) SD_WUR;
int sd_privsep_encode_notice(const sd_notice_t *n, uint8_t **out, size_t *len) SD_WUR;
/* out owns its boxes afterwards, on success only (sd_notice_clear). */
int sd_privsep_decode_notice(const uint8_t *p, size_t len, sd_notice_t *out) SD_WUR;
int sd_privsep_encode_head(const sd_loghead_t *h, uint8_t **out, size_t *len) SD_WUR;
int sd_privsep_decode_head(const uint8_t *p, size_t len, sd_loghead_t *out) SD_WUR;
int sd_privsep_encode_export(const sd_export_receipt_t *er, uint8_t **out, size_t *len) SD_WUR;
int sd_privsep_decode_export(const uint8_t *p, size_t len, sd_export_receipt_t *out) SD_WUR;
/* A SIGNED_* payload as a NUL-terminated string (*json malloc'd). */
int sd_privsep_decode_json(uint32_t type, const uint8_t *p, size_t len, char **json) SD_WUR;
/* STORE_FAILED: why the store process could not start (the code, SD_ERR_PROTOCOL..-1, and
 * the one-line detail, no NUL, at most SD_PRIVSEP_FAILURE_TEXT_MAX bytes; longer is cut). */
int sd_privsep_encode_failure(int code, const char *text, uint8_t **out, size_t *len) SD_WUR;
int sd_privsep_decode_failure(const uint8_t *p, size_t len, int *code,
                              char text[SD_PRIVSEP_FAILURE_TEXT_MAX + 1]) SD_WUR;
void sd_privsep_encode_refused(int code, uint8_t out[4]);
int sd_privsep_decode_refused(const uint8_t *p, size_t len, int *code) SD_WUR;

#endif
