/*
 * log.c — sealdropd's log: one line per event on stderr, or in a file the operator names
 * (reopened on SIGHUP, for log rotation).
 *
 * A line is "YYYY-MM-DD sealdropd: level: message". The date is Korea's, and there is
 * never a time of day: a log that timed each filing to the second would let whoever reads
 * it line up an attorney's upload with a whistleblower's movements. For the same reason
 * nothing here ever receives an address, a user agent, a secret, or report or identity
 * data: callers pass only what an operator needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/date.h"
#include "sealdrop/log.h"

static sd_log_level_t log_level = SD_LOG_INFO;
static char *log_path;
static bool log_unreachable; /* a log file outside the chroot */

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void sd_log_set_level(sd_log_level_t level)
{
	log_level = level;
}

bool sd_log_is_enabled(sd_log_level_t level)
{
	return level <= log_level;
}

/* Points stderr at path (appending, created 0640). */
static int redirect_stderr(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0)
		return sd_error(SD_ERR_IO, "cannot open the log file %s: %s", path, strerror(errno));
	if (dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return sd_error(SD_ERR_IO, "cannot redirect the log to %s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

int sd_log_open(const char *path)
{
	char *copy;
	int r;

	if (path == NULL)
		return 0;
	if ((copy = strdup(path)) == NULL)
		return SD_ERR_NOMEM;
	if ((r = redirect_stderr(path)) < 0) {
		free(copy);
		return r;
	}
	free(log_path);
	log_path = copy;
	return 0;
}

void sd_log_chroot(const char *dir)
{
	size_t n = strlen(dir);

	if (log_path == NULL)
		return;
	if (strncmp(log_path, dir, n) == 0 && log_path[n] == '/') {
		memmove(log_path, log_path + n, strlen(log_path + n) + 1);
		return;
	}
	sd_log(SD_LOG_WARN, "the log file %s is outside %s: SIGHUP cannot reopen it after the chroot", log_path, dir);
	free(log_path);
	log_path = NULL;
	log_unreachable = true;
}

int sd_log_reopen(void)
{
	if (log_unreachable)
		return sd_error(SD_ERR_REFUSED, "the log file is outside the chroot and cannot be reopened");
	return log_path != NULL ? redirect_stderr(log_path) : 0;
}

void sd_log_close(void)
{
	free(log_path);
	log_path = NULL;
}

void sd_log(sd_log_level_t level, const char *fmt, ...)
{
	char date[SD_DATE_TEXT_BYTES], line[1024];
	va_list ap;
	int n;

	if (!sd_log_is_enabled(level))
		return;
	sd_date_format(sd_date_today(), date);
	n = snprintf(line, sizeof(line), "%s sealdropd: %s: ", date, level_names[level]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several threads never interleave. */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = (int)sizeof(line) - 1;
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to say it. */
	}
}
