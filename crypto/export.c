/*
 * export.c — the referral bundle (.sdr) and its export receipt (include/sealdrop/export.h;
 * docs/FORMAT.md, "Referral bundle (.sdr)" and "Export receipt").
 *
 * An officer's client writes a bundle from a case's package (sd_bundle_write): the
 * report's and evidence's chunks, checked against the package's signed manifest as they
 * are copied, the content key moved from the intake key's box to the agency's, and the
 * root-signed directory; never the identity blob, s_c or s_w — unless a custodian's
 * client asks for an identity bundle (flag bit 0) under the whistleblower's live consent
 * for that agency: then the consent, its release (s_w sealed to the agency), s_c re-sealed
 * to the agency and the identity chunk go along (sd_bundle_check_consent() is the gate).
 * The server signs an export receipt over the bundle's digest, and the receipt goes last,
 * after everything it covers.
 *
 * An agency's client reads a bundle (sd_bundle_read: every length and every chunk
 * checked, the digest computed), verifies the directory and the receipt against its
 * pinned root (client/cmd_open.c), and opens it (sd_bundle_open) with the package
 * opener of envelope_open.c, through a header whose identity blob has no chunks (or,
 * in an identity bundle, is verified there and opened here, open_identity()).
 *
 * Start reading at parse_head(): the gate every bundle passes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "envelope_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/export.h"
#include "sealdrop/fileio.h"
#include "sealdrop/hash.h"
#include "sealdrop/identity.h"
#include "sealdrop/json.h"
#include "sealdrop/sealdrop.h"

#define SDR_MAGIC         "\x89SDR\r\n\x1a\n"
#define SDR_TRAILER_BYTES 4  /* the receipt's length, u32 */
#define SDR_IDENTITY_BLOB 1u /* the package's index of the identity blob */
#define SDR_IDENTITY_FILE "identity.json"
#define ER_LEAF_MAX       (((json_int_t)1 << 53) - 1)
#define WHAT              "export receipt"

/* --- the export receipt ------------------------------------------------------------------ */

static const char *const signature_fields[] = {"key_id", "sig", NULL};
static const char *const export_fields[] = {"version",       "deployment",    "case", "agency",     "agency_key_id",
                                            "header_digest", "bundle_digest", "date", "leaf_index", NULL};

static const sd_json_signed_t er_signed = {
        .what = WHAT,
        .body = "export",
        .signature_fields = signature_fields,
        .max_bytes = SD_EXPORT_RECEIPT_MAX_BYTES,
        .purpose = SD_PURPOSE_EXPORT,
        .kind = SD_KEY_LOG,
        .signer = "log key",
        .key = "log",
};

/* The field rules, shared by parse and sign so the server never signs what clients refuse. */
static int check_receipt(const sd_export_receipt_t *er, int err)
{
	if (er->version != SD_EXPORT_RECEIPT_VERSION)
		return sd_error(err == SD_ERR_FORMAT ? SD_ERR_VERSION : err,
		                "%s: version %u is not supported (this build reads version %d)", WHAT, er->version,
		                SD_EXPORT_RECEIPT_VERSION);
	if (!sd_deployment_is_valid(er->deployment))
		return sd_error(err, "%s: export.deployment must be 1 to %d of a-z, 0-9 and '-'", WHAT,
		                SD_DEPLOYMENT_MAX);
	if (!sd_case_number_is_valid(er->case_number))
		return sd_error(err, "%s: export.case must be a case number YYYY-NNNNNN", WHAT);
	if (!sd_deployment_is_valid(er->agency))
		return sd_error(err, "%s: export.agency must be 1 to %d of a-z, 0-9 and '-'", WHAT, SD_AGENCY_ID_MAX);
	if (!sd_date_is_valid(er->date.y, er->date.m, er->date.d))
		return sd_error(err, "%s: export.date must be a calendar date", WHAT);
	if (er->leaf_index > (uint64_t)ER_LEAF_MAX)
		return sd_error(err, "%s: export.leaf_index must be between 0 and %lld", WHAT, (long long)ER_LEAF_MAX);
	return 0;
}

static int parse_leaf(json_t *o, sd_export_receipt_t *er)
{
	json_int_t n;
	int r = sd_json_member_int(o, WHAT, "export", "leaf_index", 0, ER_LEAF_MAX, &n);

	if (r == 0)
		er->leaf_index = (uint64_t)n;
	return r;
}

static int parse_fields(json_t *o, sd_export_receipt_t *er)
{
	int r;

	if ((r = sd_json_only_fields(o, WHAT, "export", export_fields)) < 0 ||
	    (r = sd_json_member_version(o, WHAT, "export", SD_EXPORT_RECEIPT_VERSION)) < 0)
		return r;
	er->version = SD_EXPORT_RECEIPT_VERSION;
	if ((r = sd_json_member_text(o, WHAT, "export", "deployment", er->deployment, sizeof(er->deployment))) < 0 ||
	    (r = sd_json_member_text(o, WHAT, "export", "case", er->case_number, sizeof(er->case_number))) < 0 ||
	    (r = sd_json_member_text(o, WHAT, "export", "agency", er->agency, sizeof(er->agency))) < 0 ||
	    (r = sd_json_member_hex(o, WHAT, "export", "agency_key_id", er->agency_key_id, sizeof(er->agency_key_id))) <
	            0 ||
	    (r = sd_json_member_hex(o, WHAT, "export", "header_digest", er->header_digest, sizeof(er->header_digest))) <
	            0 ||
	    (r = sd_json_member_hex(o, WHAT, "export", "bundle_digest", er->bundle_digest, sizeof(er->bundle_digest))) <
	            0 ||
	    (r = sd_json_member_date(o, WHAT, "export", "date", &er->date)) < 0 || (r = parse_leaf(o, er)) < 0)
		return r;
	return check_receipt(er, SD_ERR_FORMAT);
}

static int receipt_body_fields(json_t *body, void *out)
{
	return parse_fields(body, out);
}

int sd_export_receipt_parse(const uint8_t *json, size_t len, const sd_pubkey_t *log, sd_export_receipt_t *out)
{
	uint8_t key_id[SD_KEY_ID_BYTES];
	sd_export_receipt_t er;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&er, 0, sizeof(er));
	if ((r = sd_json_signed_read_log(&er_signed, json, len, log, receipt_body_fields, &er, key_id)) < 0)
		return r;
	memcpy(er.log_key_id, key_id, SD_KEY_ID_BYTES);
	*out = er;
	return 0;
}

int sd_export_receipt_verify_with_directory(const uint8_t *json, size_t len, const sd_directory_t *d,
                                            sd_export_receipt_t *out)
{
	const sd_agency_t *a;
	int r;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return sd_error(SD_ERR_USAGE, "%s: a verified directory is needed", WHAT);
	if (!d->has_log)
		return sd_error(SD_ERR_INVALID, "%s: the directory for deployment %s lists no log key", WHAT,
		                d->deployment);
	if ((r = sd_export_receipt_parse(json, len, sd_directory_doc_log_key(d, json, len), out)) < 0)
		return r;
	if (strcmp(out->deployment, d->deployment) != 0)
		r = sd_error(SD_ERR_DEPLOYMENT, "%s: issued for deployment '%s', not '%s'", WHAT, out->deployment,
		             d->deployment);
	else if ((a = sd_directory_find_agency(d, out->agency)) == NULL)
		r = sd_error(SD_ERR_VERIFY, "%s: agency '%s' is not in the directory", WHAT, out->agency);
	else if (!sd_equal(a->key.id, out->agency_key_id, SD_KEY_ID_BYTES))
		r = sd_error(SD_ERR_VERIFY, "%s: names another key for agency '%s' than the directory lists", WHAT,
		             out->agency);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int set_hex(json_t *o, const char *name, const uint8_t *b, size_t len)
{
	char hex[2 * SD_HASH_BYTES + 1];

	sd_hex_encode(b, len, hex);
	return json_object_set_new(o, name, json_string(hex));
}

/* The "export" object, members in the documented order. */
static json_t *receipt_to_json(const sd_export_receipt_t *er)
{
	char date[SD_DATE_TEXT_BYTES];
	json_t *o = json_object();
	int fail = o == NULL;

	sd_date_format(er->date, date);
	fail |= json_object_set_new(o, "version", json_integer(er->version));
	fail |= json_object_set_new(o, "deployment", json_string(er->deployment));
	fail |= json_object_set_new(o, "case", json_string(er->case_number));
	fail |= json_object_set_new(o, "agency", json_string(er->agency));
	fail |= set_hex(o, "agency_key_id", er->agency_key_id, SD_KEY_ID_BYTES);
	fail |= set_hex(o, "header_digest", er->header_digest, SD_HASH_BYTES);
	fail |= set_hex(o, "bundle_digest", er->bundle_digest, SD_HASH_BYTES);
	fail |= json_object_set_new(o, "date", json_string(date));
	fail |= json_object_set_new(o, "leaf_index", json_integer((json_int_t)er->leaf_index));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sd_export_receipt_sign(const sd_export_receipt_t *er, const sd_seckey_t *log, char **json_out)
{
	int r;

	*json_out = NULL;
	if (er == NULL || log == NULL || log->kind != SD_KEY_LOG || log->sk == NULL)
		return sd_error(SD_ERR_USAGE, "%s: signing needs the log secret key", WHAT);
	if ((r = check_receipt(er, SD_ERR_INVALID)) < 0)
		return r;
	return sd_json_signed_sign_body(&er_signed, log, receipt_to_json(er), json_out);
}

/* --- reading a bundle ----------------------------------------------------------------------- */

bool sd_bundle_has_magic(const uint8_t *buf, size_t len)
{
	return len >= SD_SDR_MAGIC_BYTES && sd_equal(buf, SDR_MAGIC, SD_SDR_MAGIC_BYTES);
}

void sd_bundle_free_(sd_bundle_t *b)
{
	if (b == NULL)
		return;
	sd_header_free(b->content);
	free(b->receipt);
	free(b);
}

/* A manifest entry's shape, as the package's own rules have it (crypto/envelope.c). */
static bool entry_is_valid(const sd_blob_t *b, sd_blob_kind_t want)
{
	return b->kind == want && sdx_blob_shape_ok(b);
}

static int parse_text(sd_rd_t *r, char *out, size_t cap, const char *what)
{
	size_t n = sd_rd_u8(r);

	if (n == 0 || n >= cap || !sd_rd_copy(r, out, n))
		return sd_error(r->failed ? SD_ERR_TRUNCATED : SD_ERR_FORMAT, "referral bundle: bad %s length", what);
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		return sd_error(SD_ERR_FORMAT, "referral bundle: malformed %s", what);
	return 0;
}

static int parse_prefix(sd_rd_t *r, sd_bundle_t *b, size_t len)
{
	const uint8_t *magic = sd_rd_take(r, SD_SDR_MAGIC_BYTES);
	uint32_t head_len;

	if (magic == NULL || !sd_bundle_has_magic(magic, SD_SDR_MAGIC_BYTES))
		return sd_error(SD_ERR_FORMAT, "not a referral bundle (bad magic)");
	b->version = sd_rd_u16(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated");
	if (b->version != SD_SDR_VERSION)
		return sd_error(SD_ERR_VERSION,
		                "referral bundle format version %u is not supported (this build reads %u)", b->version,
		                SD_SDR_VERSION);
	b->flags = sd_rd_u16(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated");
	if ((b->flags & ~SD_SDR_FLAG_IDENTITY) != 0)
		return sd_error(SD_ERR_FORMAT, "referral bundle has unknown flags set");
	b->has_identity = (b->flags & SD_SDR_FLAG_IDENTITY) != 0;
	head_len = sd_rd_u32(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated");
	if (head_len != len)
		return sd_error(head_len > len ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		                "referral bundle head says it is %u bytes long, but %zu were given", head_len, len);
	return 0;
}

static int parse_ids(sd_rd_t *r, sd_bundle_t *b)
{
	uint32_t dlen;
	int ret;

	if ((ret = parse_text(r, b->case_number, sizeof(b->case_number), "case number")) < 0 ||
	    (ret = parse_text(r, b->agency, sizeof(b->agency), "agency id")) < 0)
		return ret;
	if (!sd_case_number_is_valid(b->case_number))
		return sd_error(SD_ERR_FORMAT, "referral bundle: malformed case number");
	if (!sd_deployment_is_valid(b->agency))
		return sd_error(SD_ERR_FORMAT, "referral bundle: malformed agency id");
	sd_rd_copy(r, b->header_digest, SD_HASH_BYTES);
	sd_rd_copy(r, b->content->binding, SD_HASH_BYTES);
	sd_rd_copy(r, b->sealed_dek, SD_SEALED_KEY_BYTES);
	dlen = sd_rd_u32(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle head is truncated");
	if (dlen == 0 || dlen > SD_DIRECTORY_MAX_BYTES || dlen > sd_rd_left(r))
		return sd_error(dlen > sd_rd_left(r) ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		                "referral bundle: bad directory length %u", dlen);
	b->directory = sd_rd_take(r, dlen);
	b->directory_len = dlen;
	memcpy(b->content->digest, b->header_digest, SD_HASH_BYTES);
	return 0;
}

/* An entry of the manifest (what = its number, for the message) into b, of kind want. */
static int parse_entry(sd_rd_t *r, sd_blob_t *b, sd_blob_kind_t want, const char *what)
{
	b->kind = sd_rd_u8(r);
	b->n_chunks = sd_rd_u32(r);
	b->size = sd_rd_u64(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle manifest is truncated");
	if (!entry_is_valid(b, want))
		return sd_error(SD_ERR_FORMAT,
		                "referral bundle manifest entry %s has an impossible kind, size or chunk count", what);
	if ((uint64_t)b->n_chunks * SD_HASH_BYTES > sd_rd_left(r))
		return sd_error(SD_ERR_TRUNCATED, "referral bundle manifest is truncated");
	b->chunk_hashes = sd_rd_take(r, (size_t)b->n_chunks * SD_HASH_BYTES);
	return 0;
}

/* Blob 0 the report, blob 1 the identity (withheld: no chunks, unless the identity
 * section fills it), blobs 2.. the evidence: the package's blob indexes, which the AEADs
 * bind. */
static int parse_manifest(sd_rd_t *r, sd_bundle_t *b)
{
	sd_header_t *h = b->content;
	uint32_t n = sd_rd_u32(r);
	char what[16];
	int ret;

	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle head is truncated");
	if (n < 1 || n > 1 + SD_SDX_MAX_EVIDENCE)
		return sd_error(SD_ERR_FORMAT, "referral bundle: %u manifest entries is out of range", n);
	h->n_blobs = n + 1;
	if ((h->blobs = calloc(h->n_blobs, sizeof(*h->blobs))) == NULL)
		return SD_ERR_NOMEM;
	h->blobs[SDR_IDENTITY_BLOB].kind = SD_BLOB_IDENTITY;
	for (uint32_t e = 0; e < n; e++) {
		snprintf(what, sizeof(what), "%u", e);
		if ((ret = parse_entry(r, &h->blobs[e == 0 ? 0 : e + 1], e == 0 ? SD_BLOB_REPORT : SD_BLOB_EVIDENCE,
		                       what)) < 0)
			return ret;
	}
	return 0;
}

/* The identity section (flag bit 0): the identity's entry, the consent key, the consent,
 * the release and the sealed s_c. */
static int parse_identity(sd_rd_t *r, sd_bundle_t *b)
{
	uint32_t clen;
	int ret;

	if ((ret = parse_entry(r, &b->content->blobs[SDR_IDENTITY_BLOB], SD_BLOB_IDENTITY, "identity")) < 0)
		return ret;
	sd_rd_copy(r, b->consent_pk, sizeof(b->consent_pk));
	clen = sd_rd_u32(r);
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle identity section is truncated");
	if (clen == 0 || clen > SD_CONSENT_MAX_BYTES || clen > sd_rd_left(r))
		return sd_error(clen > sd_rd_left(r) ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		                "referral bundle: bad consent length %u", clen);
	b->consent = sd_rd_take(r, clen);
	b->consent_len = clen;
	sd_rd_copy(r, b->release, sizeof(b->release));
	sd_rd_copy(r, b->sealed_sc, sizeof(b->sealed_sc));
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle identity section is truncated");
	return 0;
}

/* Each blob's offset in the bundle: the chunks follow the head in package order. */
static void place_blobs(sd_bundle_t *b)
{
	sd_header_t *h = b->content;
	uint64_t offset = h->raw_len;

	for (uint32_t i = 0; i < h->n_blobs; i++) {
		h->blobs[i].offset = offset;
		offset += h->blobs[i].size; /* bounded: the chunks are bounded by the head's size */
	}
	h->package_size = offset;
	b->ciphertext_end = offset;
}

/* ret with "referral bundle: " before the library's detail. */
static int prefixed(int ret)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", sd_error_detail()); /* sd_error rewrites the detail buffer */
	return sd_error(ret, "referral bundle: %s", why);
}

/* The scope names agency_id, the release hashes to the signed value: the checks the
 * reader and the writer share. */
static int consent_fits(const sd_consent_t *c, const char *agency_id, const uint8_t *release, size_t len)
{
	uint8_t hash[SD_HASH_BYTES];

	if (c->scope != SD_CONSENT_AGENCY || strcmp(c->agency, agency_id) != 0)
		return sd_error(SD_ERR_VERIFY, "the consent is not for agency '%s': the identity cannot go to it",
		                agency_id);
	if (release == NULL || len != SD_CONSENT_RELEASE_BYTES)
		return sd_error(SD_ERR_VERIFY, "the consent's release is missing or not %d bytes",
		                SD_CONSENT_RELEASE_BYTES);
	sd_hash(release, len, hash);
	if (!sd_equal(hash, c->release_hash, SD_HASH_BYTES))
		return sd_error(SD_ERR_VERIFY, "the release does not hash to the value the consent signs");
	return 0;
}

/* The identity section's consent: parsed, for this package and agency, its release as
 * signed, and its signature by the consent key the bundle carries. */
static int check_bundle_consent(sd_bundle_t *b)
{
	sd_consent_t *c = &b->consent_rec;
	sd_header_t hdr;
	int ret;

	if ((ret = sd_consent_parse(b->consent, b->consent_len, c)) < 0)
		return prefixed(ret);
	if ((ret = consent_fits(c, b->agency, b->release, sizeof(b->release))) < 0)
		return prefixed(ret);
	/* sd_consent_verify reads only the digest, deployment and consent key of a header. The
	 * deployment is the consent's own here; the caller checks it against the directory. */
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.digest, b->header_digest, SD_HASH_BYTES);
	memcpy(hdr.deployment, c->deployment, sizeof(hdr.deployment));
	memcpy(hdr.consent_pk, b->consent_pk, sizeof(hdr.consent_pk));
	if ((ret = sd_consent_verify(c, &hdr)) < 0 || (ret = sd_consent_id(c, b->consent_id)) < 0)
		return prefixed(ret);
	b->content->created = c->issued; /* the identity is validated as of the consent's day */
	return 0;
}

/* The prefix and head (len bytes, copied) into a new bundle. */
static int parse_head(const uint8_t *buf, size_t len, sd_bundle_t **out)
{
	sd_bundle_t *b = calloc(1, sizeof(*b));
	sd_rd_t r;
	int ret = SD_ERR_NOMEM;

	*out = NULL;
	if (b == NULL || (b->content = calloc(1, sizeof(*b->content))) == NULL ||
	    (b->content->raw = malloc(len ? len : 1)) == NULL)
		goto out;
	memcpy(b->content->raw, buf, len);
	b->content->raw_len = len;
	b->content->version = SD_SDX_VERSION;
	r = sd_rd_init(b->content->raw, len);
	if ((ret = parse_prefix(&r, b, len)) < 0 || (ret = parse_ids(&r, b)) < 0 || (ret = parse_manifest(&r, b)) < 0 ||
	    (b->has_identity && (ret = parse_identity(&r, b)) < 0) ||
	    (ret = sd_rd_finish(&r, "referral bundle head")) < 0)
		goto out;
	place_blobs(b);
	if (b->has_identity && (ret = check_bundle_consent(b)) < 0)
		goto out;
	*out = b;
	b = NULL;
out:
	sd_bundle_free(b);
	return ret;
}

/* Where the ciphertext comes from: memory or a file. */
typedef struct {
	const uint8_t *mem;
	size_t mem_len, off;
	int fd;
	uint8_t *buf;
	sd_progress_fn progress;
	void *progress_ctx;
} source_t;

static int source_take(source_t *s, size_t n, const uint8_t **out)
{
	size_t got = 0;
	int ret;

	if (s->mem != NULL) {
		if (n > s->mem_len - s->off)
			return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated");
		*out = s->mem + s->off;
	} else {
		if ((ret = sd_read_full(s->fd, s->buf, n, &got)) < 0)
			return ret;
		if (got != n)
			return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated");
		*out = s->buf;
	}
	s->off += n;
	return 0;
}

/* Every chunk checked against the manifest and hashed into the digest. */
static int read_chunks(sd_bundle_t *b, source_t *s, sd_hash_state_t *st)
{
	const sd_header_t *h = b->content;
	const uint8_t *ct;
	uint64_t want;
	int ret;

	for (uint32_t i = 0; i < h->n_blobs; i++)
		for (uint32_t c = 0; c < h->blobs[i].n_chunks; c++) {
			if (sd_is_cancelled())
				return sd_error(SD_ERR_CANCELLED, "interrupted");
			want = sd_header_chunk_size(h, i, c);
			if ((ret = source_take(s, (size_t)want, &ct)) < 0)
				return ret;
			if ((ret = sd_header_check_chunk(h, i, c, ct, (size_t)want)) < 0)
				return prefixed(ret);
			sd_hash_update(st, ct, (size_t)want);
			if (s->progress)
				s->progress(s->progress_ctx, s->off, h->package_size);
		}
	return 0;
}

/* The trailer: the receipt's length and bytes, then the end of the input. */
static int read_trailer(sd_bundle_t *b, source_t *s, uint64_t total)
{
	const uint8_t *p;
	uint32_t n;
	int ret;

	if ((ret = source_take(s, SDR_TRAILER_BYTES, &p)) < 0)
		return ret;
	n = sd_load_le32(p);
	if (n == 0 || n > SD_EXPORT_RECEIPT_MAX_BYTES)
		return sd_error(SD_ERR_FORMAT, "referral bundle: the export receipt's length %u is out of range", n);
	if (total != b->ciphertext_end + SDR_TRAILER_BYTES + n)
		return sd_error(
		        total < b->ciphertext_end + SDR_TRAILER_BYTES + n ? SD_ERR_TRUNCATED : SD_ERR_FORMAT,
		        "referral bundle is %llu bytes but its head and trailer describe %llu: it is %s",
		        (unsigned long long)total, (unsigned long long)(b->ciphertext_end + SDR_TRAILER_BYTES + n),
		        total < b->ciphertext_end + SDR_TRAILER_BYTES + n ? "truncated" : "followed by extra data");
	if ((b->receipt = malloc(n)) == NULL)
		return SD_ERR_NOMEM;
	if ((ret = source_take(s, n, &p)) < 0)
		return ret;
	memcpy(b->receipt, p, n);
	b->receipt_len = n;
	return 0;
}

/* After the head: the ciphertext and the trailer, the digest. */
static int read_rest(sd_bundle_t *b, source_t *s, uint64_t total)
{
	sd_hash_state_t st;
	int ret;

	s->off = b->content->raw_len;
	sd_hash_init(&st);
	sd_hash_update(&st, b->content->raw, b->content->raw_len);
	if ((ret = read_chunks(b, s, &st)) < 0)
		return ret;
	sd_hash_final(&st, b->digest);
	return read_trailer(b, s, total);
}

static uint32_t head_length(const uint8_t prefix[SD_SDR_PREFIX_BYTES])
{
	return sd_load_le32(prefix + 12);
}

int sd_bundle_parse(const uint8_t *buf, size_t len, sd_bundle_t **out)
{
	source_t s = {.mem = buf, .mem_len = len, .fd = -1};
	sd_bundle_t *b = NULL;
	uint32_t head_len;
	int ret;

	*out = NULL;
	if (len >= SD_SDR_MAGIC_BYTES && !sd_bundle_has_magic(buf, len))
		return sd_error(SD_ERR_FORMAT, "not a referral bundle (bad magic)");
	if (len < SD_SDR_PREFIX_BYTES)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated: only %zu bytes", len);
	head_len = head_length(buf);
	if (head_len < SD_SDR_PREFIX_BYTES || head_len > SD_SDR_MAX_HEAD)
		return sd_error(SD_ERR_FORMAT, "referral bundle head claims an impossible length %u", head_len);
	if (head_len > len)
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated inside its head");
	if ((ret = parse_head(buf, head_len, &b)) < 0 || (ret = read_rest(b, &s, len)) < 0)
		goto out;
	*out = b;
	b = NULL;
out:
	sd_bundle_free(b);
	return ret;
}

/* The prefix and head from fd into a parsed bundle. */
static int read_head(int fd, sd_bundle_t **out)
{
	uint8_t prefix[SD_SDR_PREFIX_BYTES], *buf = NULL;
	size_t got = 0;
	uint32_t head_len;
	int ret;

	if ((ret = sd_read_full(fd, prefix, sizeof(prefix), &got)) < 0)
		return ret;
	if (got >= SD_SDR_MAGIC_BYTES && !sd_bundle_has_magic(prefix, got))
		return sd_error(SD_ERR_FORMAT, "not a referral bundle (bad magic)");
	if (got < sizeof(prefix))
		return sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated: only %zu bytes", got);
	head_len = head_length(prefix);
	if (head_len < SD_SDR_PREFIX_BYTES || head_len > SD_SDR_MAX_HEAD)
		return sd_error(SD_ERR_FORMAT, "referral bundle head claims an impossible length %u", head_len);
	if ((buf = malloc(head_len)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(buf, prefix, sizeof(prefix));
	ret = sd_read_full(fd, buf + sizeof(prefix), head_len - sizeof(prefix), &got);
	if (ret == 0 && got != head_len - sizeof(prefix))
		ret = sd_error(SD_ERR_TRUNCATED, "referral bundle is truncated inside its head");
	if (ret == 0)
		ret = parse_head(buf, head_len, out);
	free(buf);
	return ret;
}

static int open_regular(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sd_error(SD_ERR_IO, "%s: not a regular file", path);
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int sd_bundle_read(const char *path, sd_progress_fn progress, void *ctx, sd_bundle_t **out)
{
	source_t s = {.fd = -1, .progress = progress, .progress_ctx = ctx};
	sd_bundle_t *b = NULL;
	uint64_t size = 0;
	int ret;

	*out = NULL;
	if ((s.fd = open_regular(path, &size)) < 0)
		return s.fd;
	if ((ret = read_head(s.fd, &b)) < 0)
		goto out;
	if ((s.buf = malloc(SDX_MAX_CHUNK)) == NULL) {
		ret = SD_ERR_NOMEM;
		goto out;
	}
	if ((ret = read_rest(b, &s, size)) < 0)
		goto out;
	*out = b;
	b = NULL;
out:
	free(s.buf);
	close(s.fd);
	sd_bundle_free(b);
	return ret;
}

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off, uint32_t blob);

/* The identity of an identity bundle, opened before anything is written: s_w from the
 * release and s_c from its box, both with the agency key; the chunk read again from fd
 * and checked against its entry; the record validated (sd_identity_open). */
static int open_identity(const sd_bundle_t *b, int fd, const sd_seckey_t *agency, char **text, size_t *len)
{
	uint8_t *s_c = sodium_malloc(SD_IDENTITY_SHARE_BYTES), *s_w = sodium_malloc(SD_IDENTITY_SHARE_BYTES);
	uint8_t ct[SD_IDENTITY_BLOB_BYTES];
	const sd_blob_t *id = &b->content->blobs[SDR_IDENTITY_BLOB];
	int ret = SD_ERR_NOMEM;

	if (s_c == NULL || s_w == NULL)
		goto out;
	if ((ret = sd_consent_release_open(&b->consent_rec, b->release, sizeof(b->release), agency, s_w)) < 0)
		goto out;
	if (crypto_box_seal_open(s_c, b->sealed_sc, SD_SEALED_KEY_BYTES, agency->pk, agency->sk) != 0) {
		ret = sd_error(SD_ERR_WRONG_KEY, "the bundle's Commission share is not sealed to this agency key");
		goto out;
	}
	if (id->size != sizeof(ct) || (ret = pread_full(fd, ct, sizeof(ct), id->offset, SDR_IDENTITY_BLOB)) < 0)
		ret = ret < 0 ? ret : sd_error(SD_ERR_FORMAT, "referral bundle: the identity entry's size is wrong");
	else
		ret = sd_identity_open(b->content, ct, sizeof(ct), s_c, s_w, text, len);
out:
	sodium_memzero(ct, sizeof(ct));
	sodium_free(s_c);
	sodium_free(s_w);
	return ret;
}

/* identity.json beside report.json, 0600, never replacing a file. */
static int write_identity(const char *out_dir, const char *text, size_t len)
{
	char *path = NULL;
	int ret;

	if (asprintf(&path, "%s/%s", out_dir, SDR_IDENTITY_FILE) < 0)
		return SD_ERR_NOMEM;
	ret = sd_file_write(path, text, len, 0600, SD_AFILE_NOCLOBBER);
	free(path);
	return ret;
}

int sd_bundle_open(const sd_bundle_t *b, const char *path, const sd_seckey_t *agency, const char *out_dir,
                   sd_progress_fn progress, void *ctx)
{
	uint8_t *dek = NULL;
	char *identity = NULL;
	size_t identity_len = 0;
	uint64_t size = 0;
	int fd = -1, ret;

	if (agency->kind != SD_KEY_AGENCY)
		return sd_error(SD_ERR_USAGE, "opening a referral bundle takes an agency key, not a %s key",
		                sd_key_kind_name(agency->kind));
	if ((dek = sodium_malloc(SDX_KEY_BYTES)) == NULL)
		return SD_ERR_NOMEM;
	if (crypto_box_seal_open(dek, b->sealed_dek, SD_SEALED_KEY_BYTES, agency->pk, agency->sk) != 0) {
		ret = sd_error(SD_ERR_WRONG_KEY, "the bundle's content key is not sealed to this agency key");
		goto out;
	}
	if ((fd = ret = open_regular(path, &size)) < 0)
		goto out;
	if (b->has_identity && (ret = open_identity(b, fd, agency, &identity, &identity_len)) < 0)
		goto out;
	if (lseek(fd, (off_t)b->content->raw_len, SEEK_SET) < 0) {
		ret = sd_error(SD_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((ret = sdx_open_content(fd, b->content, dek, out_dir, progress, ctx)) == 0 && identity != NULL)
		ret = write_identity(out_dir, identity, identity_len);
out:
	if (fd >= 0)
		close(fd);
	sd_secret_free(identity);
	sodium_free(dek);
	return ret;
}

/* --- writing a bundle --------------------------------------------------------------------- */

/* Whether blob i of the package goes into the bundle. */
static bool blob_goes(const sd_bundle_params_t *p, uint32_t i)
{
	return p->h->blobs[i].kind != SD_BLOB_IDENTITY || p->identity != NULL;
}

static size_t head_size(const sd_bundle_params_t *p)
{
	size_t n = SD_SDR_PREFIX_BYTES + 1 + strlen(p->case_number) + 1 + strlen(p->agency->id) + SD_HASH_BYTES * 2 +
	           SD_SEALED_KEY_BYTES + 4 + p->directory_len + 4;

	for (uint32_t i = 0; i < p->h->n_blobs; i++)
		if (blob_goes(p, i))
			n += SDX_MANIFEST_ENTRY_BYTES + (size_t)p->h->blobs[i].n_chunks * SD_HASH_BYTES;
	if (p->identity != NULL)
		n += sizeof(p->h->consent_pk) + 4 + p->identity->consent_len + SD_CONSENT_RELEASE_BYTES +
		     SD_SEALED_KEY_BYTES;
	return n;
}

static void put_entry(const sd_blob_t *b, sd_wr_t *w)
{
	sd_wr_u8(w, (uint8_t)b->kind);
	sd_wr_u32(w, b->n_chunks);
	sd_wr_u64(w, b->size);
	sd_wr_bytes(w, b->chunk_hashes, (size_t)b->n_chunks * SD_HASH_BYTES);
}

/* The identity section: entry, consent key, consent, release, s_c sealed to the agency. */
static void put_identity(const sd_bundle_params_t *p, const uint8_t sealed_sc[SD_SEALED_KEY_BYTES], sd_wr_t *w)
{
	put_entry(&p->h->blobs[SDR_IDENTITY_BLOB], w);
	sd_wr_bytes(w, p->h->consent_pk, sizeof(p->h->consent_pk));
	sd_wr_u32(w, (uint32_t)p->identity->consent_len);
	sd_wr_bytes(w, p->identity->consent, p->identity->consent_len);
	sd_wr_bytes(w, p->identity->release, SD_CONSENT_RELEASE_BYTES);
	sd_wr_bytes(w, sealed_sc, SD_SEALED_KEY_BYTES);
}

static void put_head(const sd_bundle_params_t *p, const uint8_t sealed[SD_SEALED_KEY_BYTES],
                     const uint8_t sealed_sc[SD_SEALED_KEY_BYTES], sd_wr_t *w)
{
	sd_wr_bytes(w, SDR_MAGIC, SD_SDR_MAGIC_BYTES);
	sd_wr_u16(w, SD_SDR_VERSION);
	sd_wr_u16(w, p->identity != NULL ? SD_SDR_FLAG_IDENTITY : 0);
	sd_wr_u32(w, (uint32_t)w->cap);
	sd_wr_u8(w, (uint8_t)strlen(p->case_number));
	sd_wr_bytes(w, p->case_number, strlen(p->case_number));
	sd_wr_u8(w, (uint8_t)strlen(p->agency->id));
	sd_wr_bytes(w, p->agency->id, strlen(p->agency->id));
	sd_wr_bytes(w, p->h->digest, SD_HASH_BYTES);
	sd_wr_bytes(w, p->h->binding, SD_HASH_BYTES);
	sd_wr_bytes(w, sealed, SD_SEALED_KEY_BYTES);
	sd_wr_u32(w, (uint32_t)p->directory_len);
	sd_wr_bytes(w, p->directory, p->directory_len);
	sd_wr_u32(w, p->h->n_blobs - 1);
	for (uint32_t i = 0; i < p->h->n_blobs; i++)
		if (p->h->blobs[i].kind != SD_BLOB_IDENTITY)
			put_entry(&p->h->blobs[i], w);
	if (p->identity != NULL)
		put_identity(p, sealed_sc, w);
}

/* The content key, from the intake key's box into the agency's. */
static int reseal(const sd_bundle_params_t *p, uint8_t sealed[SD_SEALED_KEY_BYTES])
{
	uint8_t *dek = sodium_malloc(SDX_KEY_BYTES);
	int ret;

	if (dek == NULL)
		return SD_ERR_NOMEM;
	if ((ret = sdx_unwrap_dek(p->h, p->intake, dek)) == 0 &&
	    crypto_box_seal(sealed, dek, SDX_KEY_BYTES, p->agency->key.pk) != 0)
		ret = sd_error(SD_ERR_INVALID, "agency '%s': its key is not one a box can be sealed to", p->agency->id);
	sodium_free(dek);
	return ret;
}

/* s_c, from the identity key's box into the agency's. */
static int reseal_share(const sd_bundle_params_t *p, uint8_t sealed[SD_SEALED_KEY_BYTES])
{
	uint8_t *s_c = sodium_malloc(SD_IDENTITY_SHARE_BYTES);
	int ret;

	if (s_c == NULL)
		return SD_ERR_NOMEM;
	if ((ret = sd_identity_open_share(p->h, p->identity->identity, s_c)) == 0 &&
	    crypto_box_seal(sealed, s_c, SD_IDENTITY_SHARE_BYTES, p->agency->key.pk) != 0)
		ret = sd_error(SD_ERR_INVALID, "agency '%s': its key is not one a box can be sealed to", p->agency->id);
	sodium_free(s_c);
	return ret;
}

int sd_bundle_check_consent(const uint8_t *json, size_t len, const uint8_t *release, size_t release_len,
                            const sd_header_t *h, const sd_agency_t *agency, sd_consent_t *out)
{
	sd_consent_t c;
	int ret;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (json == NULL || h == NULL || agency == NULL)
		return sd_error(SD_ERR_USAGE, "checking a consent needs it, the package header and the agency");
	if ((ret = sd_consent_parse(json, len, &c)) < 0 || (ret = sd_consent_verify(&c, h)) < 0 ||
	    (ret = consent_fits(&c, agency->id, release, release_len)) < 0)
		return ret;
	if (!sd_equal(c.grantee_pk, agency->key.pk, SD_KEY_PUBLIC_BYTES))
		return sd_error(SD_ERR_VERIFY, "the consent grants another key than the directory's for agency '%s'",
		                agency->id);
	if (out != NULL)
		*out = c;
	return 0;
}

static int check_identity_params(const sd_bundle_params_t *p)
{
	const sd_bundle_identity_t *id = p->identity;

	if (id->identity == NULL || id->consent == NULL || id->release == NULL)
		return sd_error(SD_ERR_USAGE, "an identity bundle needs the identity key, the consent and its release");
	if (p->h->n_blobs <= SDR_IDENTITY_BLOB || p->h->blobs[SDR_IDENTITY_BLOB].kind != SD_BLOB_IDENTITY ||
	    p->h->blobs[SDR_IDENTITY_BLOB].n_chunks != 1)
		return sd_error(SD_ERR_FORMAT, "the package has no identity blob to carry");
	return sd_bundle_check_consent(id->consent, id->consent_len, id->release, SD_CONSENT_RELEASE_BYTES, p->h,
	                               p->agency, NULL);
}

static int check_params(const sd_bundle_params_t *p)
{
	int ret;

	if (p->h == NULL || p->intake == NULL || p->agency == NULL || p->directory == NULL)
		return sd_error(SD_ERR_USAGE, "a bundle needs the package header, the intake key, the agency and the "
		                              "directory");
	if (p->agency->key.kind != SD_KEY_AGENCY || !sd_deployment_is_valid(p->agency->id))
		return sd_error(SD_ERR_USAGE, "agency '%s' has no agency key", p->agency->id);
	if (!sd_case_number_is_valid(p->case_number))
		return sd_error(SD_ERR_USAGE, "'%s' is not a case number", p->case_number);
	if (p->directory_len == 0 || p->directory_len > SD_DIRECTORY_MAX_BYTES)
		return sd_error(SD_ERR_USAGE, "the directory is empty or larger than %d bytes", SD_DIRECTORY_MAX_BYTES);
	if (p->identity != NULL && (ret = check_identity_params(p)) < 0)
		return ret;
	if (head_size(p) > SD_SDR_MAX_HEAD)
		return sd_error(SD_ERR_TOOBIG, "the bundle's head would be larger than %u bytes", SD_SDR_MAX_HEAD);
	return 0;
}

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off, uint32_t blob)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error(n == 0 ? SD_ERR_TRUNCATED : SD_ERR_IO,
			                "the package is truncated or unreadable in blob %u", blob);
		got += (size_t)n;
	}
	return 0;
}

/* Copies every chunk that goes (report, identity if asked, evidence), checked against the
 * manifest, into out. */
static int copy_chunks(const sd_bundle_params_t *p, sd_afile_t *out, sd_hash_state_t *st, uint8_t *buf)
{
	uint64_t done = 0, total = 0;
	int ret;

	for (uint32_t i = 0; i < p->h->n_blobs; i++)
		total += blob_goes(p, i) ? p->h->blobs[i].size : 0;
	for (uint32_t i = 0; i < p->h->n_blobs; i++) {
		uint64_t off = p->h->blobs[i].offset;
		if (!blob_goes(p, i))
			continue;
		for (uint32_t c = 0; c < p->h->blobs[i].n_chunks; c++) {
			size_t want = (size_t)sd_header_chunk_size(p->h, i, c);
			if (sd_is_cancelled())
				return sd_error(SD_ERR_CANCELLED, "interrupted");
			if ((ret = pread_full(p->pkg_fd, buf, want, off, i)) < 0 ||
			    (ret = sd_header_check_chunk(p->h, i, c, buf, want)) < 0 ||
			    (ret = sd_afile_write(out, buf, want)) < 0)
				return ret;
			sd_hash_update(st, buf, want);
			off += want;
			done += want;
			if (p->progress)
				p->progress(p->progress_ctx, done, total);
		}
	}
	return 0;
}

int sd_bundle_write(const sd_bundle_params_t *p, sd_afile_t *out, uint8_t digest[SD_HASH_BYTES])
{
	uint8_t sealed[SD_SEALED_KEY_BYTES], sealed_sc[SD_SEALED_KEY_BYTES], *head = NULL, *buf = NULL;
	sd_hash_state_t st;
	sd_wr_t w;
	int ret;

	if ((ret = check_params(p)) < 0 || (ret = reseal(p, sealed)) < 0 ||
	    (p->identity != NULL && (ret = reseal_share(p, sealed_sc)) < 0))
		return ret;
	if ((head = malloc(head_size(p))) == NULL || (buf = malloc(SDX_MAX_CHUNK)) == NULL) {
		ret = SD_ERR_NOMEM;
		goto out;
	}
	w = sd_wr_init(head, head_size(p));
	put_head(p, sealed, sealed_sc, &w);
	if (w.failed || w.len != w.cap) {
		ret = sd_error(SD_ERR_INTERNAL, "the bundle's head was not written whole");
		goto out;
	}
	sd_hash_init(&st);
	sd_hash_update(&st, head, w.len);
	if ((ret = sd_afile_write(out, head, w.len)) < 0 || (ret = copy_chunks(p, out, &st, buf)) < 0)
		goto out;
	sd_hash_final(&st, digest);
out:
	free(head);
	free(buf);
	return ret;
}

int sd_bundle_write_receipt(sd_afile_t *out, const char *receipt, size_t len)
{
	uint8_t n[SDR_TRAILER_BYTES];
	int ret;

	if (len == 0 || len > SD_EXPORT_RECEIPT_MAX_BYTES)
		return sd_error(SD_ERR_INVALID, "an export receipt of %zu bytes does not fit a bundle", len);
	sd_store_le32(n, (uint32_t)len);
	if ((ret = sd_afile_write(out, n, sizeof(n))) < 0)
		return ret;
	return sd_afile_write(out, receipt, len);
}
