/*
 * servicekey.c — secret keys a service uses unattended (sealdropd's log signing key):
 * protected by the file's owner and mode, like an OpenSSH host key, since nobody would
 * be there to type a passphrase. See include/sealdrop/servicekey.h for the layout.
 *
 * Start at sd_servicekey_read(): it refuses a file others may read or write before it
 * looks at the bytes, checks every header field, and derives the public key again so a
 * damaged secret fails to load instead of silently becoming another key.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/fileio.h"
#include "sealdrop/servicekey.h"

#define SVCKEY_MAGIC       "SDSVCKEY"
#define SVCKEY_MAGIC_BYTES 8
#define SVCKEY_VERSION     1

_Static_assert(SVCKEY_MAGIC_BYTES + 2 + 2 + 4 + SD_KEY_SECRET_BYTES + SD_KEY_ID_BYTES == SD_SERVICEKEY_BYTES,
               "service key file layout");

static bool kind_is_known(unsigned kind)
{
	return kind >= SD_KEY_ROOT && kind <= SD_KEY_LOG;
}

int sd_servicekey_write(const char *path, const sd_seckey_t *k)
{
	uint8_t buf[SD_SERVICEKEY_BYTES];
	sd_wr_t w = sd_wr_init(buf, sizeof(buf));
	int r;

	if (path == NULL || k == NULL || k->sk == NULL || !kind_is_known((unsigned)k->kind))
		return sd_error(SD_ERR_USAGE, "no path or no usable key for the service key file");
	sd_wr_bytes(&w, SVCKEY_MAGIC, SVCKEY_MAGIC_BYTES);
	sd_wr_u16(&w, SVCKEY_VERSION);
	sd_wr_u16(&w, (uint16_t)k->kind);
	sd_wr_u32(&w, 0);
	/* The Ed25519 seed is the first half of libsodium's secret key; X25519's is all of it. */
	sd_wr_bytes(&w, k->sk, SD_KEY_SECRET_BYTES);
	sd_wr_bytes(&w, k->id, SD_KEY_ID_BYTES);
	if (w.failed || w.len != sizeof(buf)) {
		sodium_memzero(buf, sizeof(buf));
		return sd_error(SD_ERR_INTERNAL, "service key file layout does not add up");
	}
	r = sd_file_write(path, buf, sizeof(buf), 0600, SD_AFILE_NOCLOBBER);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* Opens path for reading, refusing anything but a regular file only its owner can use. */
static int open_private(const char *path, int *fd_out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return sd_error(SD_ERR_REFUSED, "%s is a symbolic link; a service key must be a plain file",
			                path);
		return sd_error(e == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sd_error(SD_ERR_REFUSED, "%s is not a regular file", path);
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return sd_error(SD_ERR_REFUSED, "%s is accessible to group or others (mode %04o); chmod 600 it", path,
		                (unsigned)(st.st_mode & 07777));
	}
	*fd_out = fd;
	return 0;
}

/* Checks the header fields in file order; the secret and key id are checked by the caller. */
static int parse_header(const char *path, const uint8_t *buf, size_t len, sd_key_kind_t want)
{
	uint16_t version, kind;
	uint32_t reserved;

	if (len < SD_SERVICEKEY_BYTES)
		return sd_error(SD_ERR_TRUNCATED, "%s is truncated: %zu bytes, expected %d", path, len,
		                SD_SERVICEKEY_BYTES);
	if (len > SD_SERVICEKEY_BYTES)
		return sd_error(SD_ERR_FORMAT, "%s is longer than the %d bytes of a service key file", path,
		                SD_SERVICEKEY_BYTES);
	if (sodium_memcmp(buf, SVCKEY_MAGIC, SVCKEY_MAGIC_BYTES) != 0)
		return sd_error(SD_ERR_FORMAT, "%s is not a sealdrop service key file", path);
	version = sd_load_le16(buf + 8);
	kind = sd_load_le16(buf + 10);
	reserved = sd_load_le32(buf + 12);
	if (version != SVCKEY_VERSION)
		return sd_error(SD_ERR_VERSION,
		                "%s: service key file version %u is not supported (this build reads %d)", path, version,
		                SVCKEY_VERSION);
	if (!kind_is_known(kind))
		return sd_error(SD_ERR_INVALID, "%s names unknown key kind %u, not %s", path, kind,
		                sd_key_kind_name(want));
	if (kind != (uint16_t)want)
		return sd_error(SD_ERR_INVALID, "%s holds a %s key, not a %s key", path,
		                sd_key_kind_name((sd_key_kind_t)kind), sd_key_kind_name(want));
	if (reserved != 0)
		return sd_error(SD_ERR_FORMAT, "%s: reserved header bytes are not zero", path);
	return 0;
}

int sd_servicekey_read(const char *path, sd_key_kind_t kind, sd_seckey_t **out)
{
	uint8_t buf[SD_SERVICEKEY_BYTES + 1];
	const uint8_t *secret = buf + 16, *id = buf + 16 + SD_KEY_SECRET_BYTES;
	sd_seckey_t *k = NULL;
	size_t got = 0;
	int fd = -1, r;

	*out = NULL;
	if (path == NULL)
		return sd_error(SD_ERR_USAGE, "no path for the service key file");
	if ((r = open_private(path, &fd)) < 0)
		return r;
	/* One byte more than a key file, so trailing data is seen. */
	r = sd_read_full(fd, buf, sizeof(buf), &got);
	close(fd);
	if (r < 0 || (r = parse_header(path, buf, got, kind)) < 0)
		goto out;
	if ((r = sd_seckey_from_secret(kind, secret, &k)) < 0) {
		r = sd_error(SD_ERR_FORMAT, "%s: the secret is not a usable %s key", path, sd_key_kind_name(kind));
		goto out;
	}
	if (sodium_memcmp(k->id, id, SD_KEY_ID_BYTES) != 0) {
		r = sd_error(SD_ERR_FORMAT, "%s is damaged: its secret does not give the key id it records", path);
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
out:
	sd_seckey_free(k);
	sodium_memzero(buf, sizeof(buf));
	return r;
}
