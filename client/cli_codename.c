/*
 * cli_codename.c — the moments the whistleblower meets their codename: shown once on the
 * terminal with what it is for, hidden again, typed back with echo off; or read from a
 * file for scripts (a documented risk: a file is evidence on a seized device).
 *
 * The codename never goes to stdout or stderr, which may be logged or piped; only to
 * /dev/tty, and it lives only in secret memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/codename.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

#define CONFIRM_ATTEMPTS 3

int cli_codename_from_file(const char *path, char *out, size_t outlen)
{
	char *text = NULL;
	size_t len = 0;
	int r = sd_file_read_secret(path, CLI_CODENAME_INPUT_MAX, &text, &len);

	if (r < 0)
		return cli_error_prefix(r, _("codename file"));
	r = sd_codename_canonicalize(text, len, out, outlen);
	sd_secret_free(text);
	if (r < 0)
		return cli_error_prefix(r, _("codename file %s"), path);
	return 0;
}

static const char *const explanation[] = {
        N_(""),
        N_("This is your codename. It is shown only this once:"),
        N_(""),
        NULL, /* the codename */
        N_(""),
        N_("Write it on paper now. It is the only way to follow your case, to give or"),
        N_("refuse consent to reveal your identity, and to read the Commission's notices."),
        N_("Nobody can recover it for you: not the Commission, not your attorney."),
        N_("Do not store it on this computer."),
        N_(""),
        N_("Press Enter once you have written it down."),
};

/* Writes the explanation around the codename; returns the number of lines written. */
static int show(int tty, const char *canonical, int *lines)
{
	int r = 0;

	*lines = 0;
	for (size_t i = 0; r == 0 && i < sizeof(explanation) / sizeof(explanation[0]); i++) {
		if (explanation[i] == NULL) {
			r = sd_write_full(tty, "    ", 4);
			if (r == 0)
				r = sd_write_full(tty, canonical, strlen(canonical));
		} else {
			const char *line = _(explanation[i]);
			r = sd_write_full(tty, line, strlen(line));
		}
		if (r == 0)
			r = sd_write_full(tty, "\n", 1);
		(*lines)++;
	}
	return r;
}

/* Waits for Enter, then erases what was shown (the lines above the cursor), unless the
 * terminal cannot do that. */
/* Up over the explanation and the echoed Enter, then clear to the end of the screen. */
static void hide(int tty, int lines)
{
	const char *term = getenv("TERM");
	char esc[32];

	if (term == NULL || strcmp(term, "dumb") == 0)
		return;
	snprintf(esc, sizeof(esc), "\033[%dA\r\033[J", lines + 1);
	(void)!sd_write_full(tty, esc, strlen(esc));
}

/* Waits for Enter, then takes the codename off the screen, on every way out: Enter, end
 * of input, or an interrupt (which must not leave it on display). */
static int wait_and_hide(int tty, int lines)
{
	char buf[256];
	ssize_t n;
	int r = 0;

	for (;;) {
		n = read(tty, buf, sizeof(buf));
		if (n < 0 && errno == EINTR && !sd_is_cancelled())
			continue;
		if (n <= 0 || memchr(buf, '\n', (size_t)n) != NULL)
			break;
	}
	if (n < 0 && sd_is_cancelled())
		r = sd_error(SD_ERR_CANCELLED, _("interrupted; nothing was sealed"));
	else if (n <= 0)
		r = sd_error(SD_ERR_CODENAME, _("no input from the terminal; nothing was sealed"));
	hide(tty, lines);
	sd_wipe(buf, sizeof(buf));
	return r;
}

/* One attempt at typing it back: 0 if it matches, SD_ERR_CODENAME if not. */
static int read_back(int tty, const char *canonical, char *typed, char *canon)
{
	size_t len = 0, want = strlen(canonical);
	int r = cli_tty_read_hidden(tty, _("Type the codename to confirm (it is not shown): "), typed,
	                            CLI_CODENAME_INPUT_MAX, &len);

	if (r < 0)
		return r;
	r = sd_codename_canonicalize(typed, len, canon, SD_CODENAME_MAX);
	sd_wipe(typed, CLI_CODENAME_INPUT_MAX);
	if (r < 0)
		return r;
	if (strlen(canon) != want || !sd_equal(canon, canonical, want))
		return sd_error(SD_ERR_CODENAME, _("that is not the codename shown"));
	return 0;
}

int cli_codename_confirm(int tty, const char *canonical)
{
	char *typed = sd_secret_alloc(CLI_CODENAME_INPUT_MAX);
	char *canon = sd_secret_alloc(SD_CODENAME_MAX);
	char msg[600];
	int lines = 0, r = SD_ERR_NOMEM;

	if (typed == NULL || canon == NULL)
		goto out;
	if ((r = show(tty, canonical, &lines)) < 0 || (r = wait_and_hide(tty, lines)) < 0)
		goto out;
	for (int attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt++) {
		sd_error_clear();
		r = read_back(tty, canonical, typed, canon);
		if (r == 0 || r != SD_ERR_CODENAME)
			goto out;
		snprintf(msg, sizeof(msg), _("%s (%d of %d)\n"), sd_error_detail(), attempt, CONFIRM_ATTEMPTS);
		(void)!sd_write_full(tty, msg, strlen(msg));
	}
	r = sd_error(SD_ERR_CODENAME, _("the codename was not confirmed; nothing was sealed"));
out:
	sd_secret_free(typed);
	sd_secret_free(canon);
	return r;
}
