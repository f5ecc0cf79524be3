/*
 * i18n.c — Korean or English, following LANG: the locale and catalogue both binaries
 * select first thing in main() (see i18n.h).
 *
 * The people using sealdrop are Korean, often on a freshly installed machine. A fresh
 * Debian 12 has only the C, C.UTF-8 and POSIX locales unless ko_KR.UTF-8 was generated,
 * and then setlocale(LC_ALL, "") fails for LANG=ko_KR.UTF-8, the process stays in "C", and
 * glibc's gettext ignores LANGUAGE in "C": the person asked for Korean and gets English.
 * So when the requested locale is missing but names a language (anything but C/POSIX),
 * we switch to C.UTF-8, which every glibc since 2.35 has built in and which gettext does
 * not treat as "C", and name the requested locale in LANGUAGE (unless the person set
 * LANGUAGE themselves). gettext then finds the Korean catalogue and prints UTF-8. With a
 * generated ko_KR.UTF-8 none of this is needed and the usual path is taken. English
 * stays the default: LANG unset, C, POSIX or en_* find no catalogue.
 */
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/error.h"
#include "sealdrop/i18n.h"

static bool env_is_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

const char *sd_locale_requested(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (env_is_set(vars[i]))
			return getenv(vars[i]);
	return NULL;
}

static bool locale_is_c(const char *name)
{
	return name == NULL || strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0;
}

/* setlocale(LC_ALL, "") and, when the requested locale is not installed, C.UTF-8 with
 * the requested one in LANGUAGE (see the top of this file). */
static void locale_select(void)
{
	const char *want;

	if (setlocale(LC_ALL, "") != NULL)
		return;
	want = sd_locale_requested();
	if (locale_is_c(want))
		return;
	if (setlocale(LC_ALL, "C.UTF-8") == NULL && setlocale(LC_ALL, "C.utf8") == NULL)
		return; /* no UTF-8 locale at all: English, as before */
	if (!env_is_set("LANGUAGE"))
		setenv("LANGUAGE", want, 1);
}

/* Whether this process runs a binary the Makefile built in build_dir. */
static bool running_from(const char *build_dir)
{
	char exe[PATH_MAX];
	size_t len = strlen(build_dir);
	ssize_t n;

	if (len == 0)
		return false;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, build_dir, len) == 0 && exe[len] == '/' && strchr(exe + len + 1, '/') == NULL;
}

static const char *locale_dir(const sd_i18n_t *t)
{
	if (env_is_set("SEALDROP_LOCALEDIR"))
		return getenv("SEALDROP_LOCALEDIR");
	if (running_from(t->build_dir))
		return t->build_localedir;
	return t->installed_localedir;
}

void sd_i18n_init(const sd_i18n_t *t)
{
	locale_select();
	bindtextdomain(t->domain, locale_dir(t));
	textdomain(t->domain);
	sd_error_set_translator(sd_gettext); /* the library's error details too */
}

const char *sd_gettext(const char *msgid)
{
	return msgid[0] == '\0' ? msgid : gettext(msgid);
}
