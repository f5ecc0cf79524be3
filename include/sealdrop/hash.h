/*
 * hash.h — BLAKE2b-256, one-shot and incremental, for code outside crypto/ that must
 * hash data as it arrives (the server checks each uploaded chunk against its manifest
 * hash while the body streams in, DESIGN.md "Streaming, constant memory").
 *
 * The state is an opaque, fixed-size struct the caller may keep anywhere (on the stack,
 * inside a request): no allocation, no libsodium type in this header. It is plain
 * unkeyed BLAKE2b with a 32-byte output, so sd_hash_final gives exactly what
 * crypto_generichash (and the package manifest) computes over the same bytes.
 */
#ifndef SEALDROP_HASH_H
#define SEALDROP_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SD_HASH_DIGEST_BYTES 32  /* BLAKE2b-256 */
#define SD_HASH_STATE_BYTES  384 /* libsodium's crypto_generichash_state (checked in crypto/hash.c) */

typedef struct {
	_Alignas(64) uint8_t opaque[SD_HASH_STATE_BYTES];
} sd_hash_state_t;

void sd_hash_init(sd_hash_state_t *st);
void sd_hash_update(sd_hash_state_t *st, const uint8_t *data, size_t len);
/* Writes the digest and wipes the state; init it again before reusing it. */
void sd_hash_final(sd_hash_state_t *st, uint8_t out[SD_HASH_DIGEST_BYTES]);
/* One shot: the same as init, update, final. */
void sd_hash(const uint8_t *data, size_t len, uint8_t out[SD_HASH_DIGEST_BYTES]);

#endif
