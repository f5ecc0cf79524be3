/*
 * error.c — error strings, sysexits mapping and the per-thread error detail.
 * See include/sealdrop/error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "sealdrop/error.h"

static _Thread_local char detail[1024]; /* Korean takes three bytes a letter */
static sd_translate_fn translate;

static const struct {
	int code;
	const char *text;
	int exit_code;
} errors[] = {
        {SD_OK, SD_N_("success"), EX_OK},
        {SD_ERR_INTERNAL, SD_N_("internal error"), EX_SOFTWARE},
        {SD_ERR_NOMEM, SD_N_("out of memory"), EX_OSERR},
        {SD_ERR_IO, SD_N_("input/output error"), EX_IOERR},
        {SD_ERR_NOENT, SD_N_("no such file"), EX_NOINPUT},
        {SD_ERR_EXISTS, SD_N_("output already exists"), EX_CANTCREAT},
        {SD_ERR_USAGE, SD_N_("invalid argument"), EX_USAGE},
        {SD_ERR_FORMAT, SD_N_("malformed data"), EX_DATAERR},
        {SD_ERR_TRUNCATED, SD_N_("truncated data"), EX_DATAERR},
        {SD_ERR_TOOBIG, SD_N_("too large"), EX_DATAERR},
        {SD_ERR_VERSION, SD_N_("unsupported format version"), EX_DATAERR},
        {SD_ERR_VERIFY, SD_N_("verification failed"), EX_DATAERR},
        {SD_ERR_PASSPHRASE, SD_N_("wrong passphrase"), EX_NOPERM},
        {SD_ERR_WRONG_KEY, SD_N_("sealed to a different key"), EX_DATAERR},
        {SD_ERR_DEPLOYMENT, SD_N_("belongs to another deployment"), EX_DATAERR},
        {SD_ERR_EXPIRED, SD_N_("expired"), EX_DATAERR},
        {SD_ERR_ROLLBACK, SD_N_("older than a version already seen"), EX_DATAERR},
        {SD_ERR_INVALID, SD_N_("invalid record"), EX_DATAERR},
        {SD_ERR_CODENAME, SD_N_("codename not recognised"), EX_DATAERR},
        {SD_ERR_CONFIG, SD_N_("configuration error"), EX_CONFIG},
        {SD_ERR_REFUSED, SD_N_("refused"), EX_NOPERM},
        {SD_ERR_CANCELLED, SD_N_("interrupted"), 130},
        {SD_ERR_UNAVAILABLE, SD_N_("service unavailable"), EX_UNAVAILABLE},
        {SD_ERR_PROTOCOL, SD_N_("protocol error"), EX_PROTOCOL},
};

const char *sd_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return translate != NULL ? translate(errors[i].text) : errors[i].text;
	return translate != NULL ? translate(SD_N_("unknown error")) : "unknown error";
}

int sd_exit_code(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].exit_code;
	return EX_SOFTWARE;
}

void sd_error_set_translator(sd_translate_fn fn)
{
	translate = fn;
}

int sd_error(int err, const char *fmt, ...)
{
	char buf[sizeof(detail)];
	va_list ap;

	if (translate != NULL)
		fmt = translate(fmt);

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
