/*
 * error.c — error strings, sysexits mapping and the per-thread error detail.
 * See include/sealdrop/error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "sealdrop/error.h"

static _Thread_local char detail[512];

static const struct {
	int code;
	const char *text;
	int exit_code;
} errors[] = {
        {SD_OK, "success", EX_OK},
        {SD_ERR_INTERNAL, "internal error", EX_SOFTWARE},
        {SD_ERR_NOMEM, "out of memory", EX_OSERR},
        {SD_ERR_IO, "input/output error", EX_IOERR},
        {SD_ERR_NOENT, "no such file", EX_NOINPUT},
        {SD_ERR_EXISTS, "output already exists", EX_CANTCREAT},
        {SD_ERR_USAGE, "invalid argument", EX_USAGE},
        {SD_ERR_FORMAT, "malformed data", EX_DATAERR},
        {SD_ERR_TRUNCATED, "truncated data", EX_DATAERR},
        {SD_ERR_TOOBIG, "too large", EX_DATAERR},
        {SD_ERR_VERSION, "unsupported format version", EX_DATAERR},
        {SD_ERR_VERIFY, "verification failed", EX_DATAERR},
        {SD_ERR_PASSPHRASE, "wrong passphrase", EX_NOPERM},
        {SD_ERR_WRONG_KEY, "sealed to a different key", EX_DATAERR},
        {SD_ERR_DEPLOYMENT, "belongs to another deployment", EX_DATAERR},
        {SD_ERR_EXPIRED, "expired", EX_DATAERR},
        {SD_ERR_ROLLBACK, "older than a version already seen", EX_DATAERR},
        {SD_ERR_INVALID, "invalid record", EX_DATAERR},
        {SD_ERR_CODENAME, "codename not recognised", EX_DATAERR},
        {SD_ERR_CONFIG, "configuration error", EX_CONFIG},
        {SD_ERR_REFUSED, "refused", EX_NOPERM},
        {SD_ERR_CANCELLED, "interrupted", 130},
        {SD_ERR_UNAVAILABLE, "service unavailable", EX_UNAVAILABLE},
        {SD_ERR_PROTOCOL, "protocol error", EX_PROTOCOL},
};

const char *sd_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].text;
	return "unknown error";
}

int sd_exit_code(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].exit_code;
	return EX_SOFTWARE;
}

int sd_error(int err, const char *fmt, ...)
{
	char buf[sizeof(detail)];
	va_list ap;

	/* Format aside first: callers may pass sd_error_detail() itself as an argument. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(detail, buf, sizeof(detail));
	return err;
}

const char *sd_error_detail(void)
{
	return detail;
}

void sd_error_clear(void)
{
	detail[0] = '\0';
}

const char *sd_error_printable(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), k;

	for (k = 0; k < n && k + 4 < cap; k++)
		out[k] = ((unsigned char)in[k] < 0x20 || in[k] == 0x7f) ? '?' : in[k];
	if (k < n) {
		while (k > 0 && ((unsigned char)in[k] & 0xc0) == 0x80)
			k--;
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}
