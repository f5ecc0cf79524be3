/*
 * cmd_seal.c — `sealdrop seal`: the whistleblower's one offline act. Checks everything
 * cheap first (directory, report, identity, evidence files, outputs), then mints the
 * codename and makes sure the person has it, derives their keys, and streams the package
 * out through crypto/envelope.c. Nothing is left behind on failure: the package is
 * committed atomically by the library, and a codename file written here is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/codename.h"
#include "sealdrop/envelope.h"
#include "sealdrop/fileio.h"
#include "sealdrop/record.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

#define REPORT_FILE_MAX   (4u << 20)
#define IDENTITY_FILE_MAX (64u << 10)

static const cli_cmd_t cmd = {
        "seal",
        N_("usage: sealdrop seal --directory D --root ROOTPUB --report R.json --identity I.json\n"
           "                     [--evidence FILE]... --out PKG.sdx\n"
           "                     [--codename-out F | --codename-file F] [--json] [--quiet]\n"),
        N_("\n"
           "Seals a report, the whistleblower's identity and evidence files into one package for\n"
           "the deployment named by the directory, and gives the whistleblower a codename: eight\n"
           "words that are the only way to follow the case, give consent or read notices.\n"
           "\n"
           "The report and evidence are encrypted to the Commission's intake key. The identity is\n"
           "sealed so that it opens only with the whistleblower's consent. Without --codename-out\n"
           "or --codename-file the codename is shown once on the terminal and must be typed back.\n"
           "\n"
           "  --directory D           the signed key directory\n"
           "  --root ROOTPUB          the pinned root public key that must have signed it\n"
           "  --report R.json         the report (Decree Art. 7(1) 2-7)\n"
           "  --identity I.json       the identity record (Art. 7(1) 1); its resident registration\n"
           "                          number is checked before anything is sealed\n"
           "  --evidence FILE         an evidence file, streamed (any size); repeat for each file;\n"
           "                          stored under its base name, which must be unique\n"
           "  --out PKG.sdx           the package to write (never overwritten)\n"
           "  --codename-out F        write the new codename to F (0600) instead of showing it.\n"
           "                          RISK: a file is evidence on a seized device; copy the codename\n"
           "                          to paper and delete F\n"
           "  --codename-file F       use the codename in F instead of a new one (same risk)\n"
           "  --json                  print the result as one JSON object\n"
           "  --quiet                 no progress bar and no summary (errors and warnings still)\n"
           "  -h, --help              this help\n"),
};

enum {
	OPT_DIRECTORY = 256,
	OPT_ROOT,
	OPT_REPORT,
	OPT_IDENTITY,
	OPT_EVIDENCE,
	OPT_OUT,
	OPT_CODENAME_OUT,
	OPT_CODENAME_FILE,
	OPT_JSON,
	OPT_QUIET
};

typedef struct {
	const char *directory, *root, *report, *identity, *out, *codename_out, *codename_file;
	char **evidence; /* pointers into argv */
	size_t n_evidence;
	bool json, quiet;
} seal_args_t;

/* Everything a seal holds; all of it released (and the secrets wiped) by seal_state_free. */
typedef struct {
	sd_directory_t *dir;
	char *report;
	size_t report_len;
	char *identity; /* secret memory */
	size_t identity_len;
	sd_evidence_src_t *ev;
	uint64_t *ev_size;
	char *codename; /* secret memory */
	sd_codename_keys_t *keys;
	const char *codename_written; /* the file to remove if sealing fails */
} seal_state_t;

static void seal_state_free(seal_state_t *s)
{
	sd_directory_free(s->dir);
	if (s->report != NULL)
		sd_wipe(s->report, s->report_len);
	free(s->report);
	sd_secret_free(s->identity);
	free(s->ev);
	free(s->ev_size);
	sd_secret_free(s->codename);
	sd_codename_keys_free(s->keys);
}

/* The report and the identity, each validated; errors name the file. */
static int load_records(const seal_args_t *a, seal_state_t *s)
{
	uint8_t *raw = NULL;
	char *secret = NULL;
	size_t len = 0;
	int r;

	if ((r = sd_file_read(a->report, REPORT_FILE_MAX, &raw, &len)) < 0)
		return cli_error_prefix(r, _("report"));
	r = sd_report_validate(raw, len, &s->report, &s->report_len);
	sd_wipe(raw, len);
	free(raw);
	if (r < 0)
		return cli_error_prefix(r, "%s", a->report);
	if ((r = sd_file_read_secret(a->identity, IDENTITY_FILE_MAX, &secret, &len)) < 0)
		return cli_error_prefix(r, _("identity"));
	r = sd_identity_validate((const uint8_t *)secret, len, sd_date_today(), &s->identity, &s->identity_len);
	sd_secret_free(secret);
	if (r < 0)
		return cli_error_prefix(r, "%s", a->identity);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Each evidence file exists, is a regular file we can read, and has a unique name. */
static int check_evidence(const seal_args_t *a, seal_state_t *s)
{
	struct stat st;

	if (a->n_evidence > SD_SDX_MAX_EVIDENCE)
		return sd_error(SD_ERR_USAGE, _("at most %d evidence files"), SD_SDX_MAX_EVIDENCE);
	s->ev = calloc(a->n_evidence + 1, sizeof(*s->ev));
	s->ev_size = calloc(a->n_evidence + 1, sizeof(*s->ev_size));
	if (s->ev == NULL || s->ev_size == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < a->n_evidence; i++) {
		const char *path = a->evidence[i], *name = base_name(path);
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return sd_error(SD_ERR_NOENT, _("evidence %s: %s"), path, strerror(errno));
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return sd_error(SD_ERR_NOENT, _("evidence %s: not a regular file"), path);
		}
		close(fd);
		if (name[0] == '\0' || strlen(name) > SD_EVIDENCE_NAME_MAX)
			return sd_error(SD_ERR_USAGE, _("evidence %s: the name must be 1-%d bytes"), path,
			                SD_EVIDENCE_NAME_MAX);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->ev[j].name, name) == 0)
				return sd_error(SD_ERR_USAGE, _("two evidence files are named %s"), name);
		s->ev[i] = (sd_evidence_src_t){.path = path, .name = name, .media_type = NULL};
		s->ev_size[i] = (uint64_t)st.st_size;
	}
	return 0;
}

/* A new codename into a file the caller asked for (0600, never overwriting). */
static int codename_to_file(const char *path, const char *canonical)
{
	size_t len = strlen(canonical);
	char *line = sd_secret_alloc(len + 2);
	int r;

	if (line == NULL)
		return SD_ERR_NOMEM;
	memcpy(line, canonical, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	r = sd_file_write(path, line, len + 1, 0600, SD_AFILE_NOCLOBBER);
	sd_secret_free(line);
	if (r < 0)
		return cli_error_prefix(r, "--codename-out");
	return 0;
}

/* The codename: given in a file, or new and then either written out or shown once. */
static int obtain_codename(const seal_args_t *a, seal_state_t *s)
{
	int tty, r;

	if ((s->codename = sd_secret_alloc(SD_CODENAME_MAX)) == NULL)
		return SD_ERR_NOMEM;
	if (a->codename_file != NULL)
		return cli_codename_from_file(a->codename_file, s->codename, SD_CODENAME_MAX);
	if ((r = sd_codename_generate(s->codename, SD_CODENAME_MAX)) < 0)
		return r;
	if (a->codename_out != NULL) {
		cli_cleanup_path_set(a->codename_out);
		if ((r = codename_to_file(a->codename_out, s->codename)) < 0) {
			cli_cleanup_path_set(NULL);
			return r;
		}
		s->codename_written = a->codename_out;
		return 0;
	}
	if ((tty = cli_tty_open()) < 0)
		return sd_error(SD_ERR_USAGE, _("no terminal to show the codename on; use --codename-out FILE"));
	r = cli_codename_confirm(tty, s->codename);
	close(tty);
	return r;
}

static json_t *evidence_json(const seal_state_t *s, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:I}", "name", s->ev[i].name, "size",
		                                         (json_int_t)s->ev_size[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static int summary(const seal_args_t *a, const seal_state_t *s, const sd_header_t *h)
{
	char digest[2 * SD_HASH_BYTES + 1], date[SD_DATE_TEXT_BYTES], size[CLI_SIZE_TEXT_BYTES];

	sd_hex_encode(h->digest, sizeof(h->digest), digest);
	if (a->json)
		return cli_json_print(json_pack("{s:s, s:I, s:s, s:s, s:o, s:I, s:o}", "package", a->out, "size",
		                                (json_int_t)h->package_size, "header_digest", digest, "deployment",
		                                h->deployment, "created", cli_json_date(h->created),
		                                "directory_version", (json_int_t)h->directory_version, "evidence",
		                                evidence_json(s, a->n_evidence)));
	if (a->quiet)
		return 0;
	cli_format_size(h->package_size, size);
	printf(_("sealed %s (%s, %llu bytes)\n"), a->out, size, (unsigned long long)h->package_size);
	printf(_("  header digest  %s\n"), digest);
	printf(_("  deployment     %s (directory version %u)\n"), h->deployment, h->directory_version);
	sd_date_format(h->created, date);
	printf(_("  created        %s\n"), date);
	printf(_("  report         encrypted to the Commission's intake key\n"));
	printf(_("  identity       sealed: it opens only with the whistleblower's consent\n"));
	for (size_t i = 0; i < a->n_evidence; i++) {
		cli_format_size(s->ev_size[i], size);
		printf("  %-14s %s (%s)\n", i == 0 ? _("evidence") : "", s->ev[i].name, size);
	}
	if (a->n_evidence == 0)
		printf(_("  evidence       none\n"));
	return 0;
}

/* Derives the keys, streams the package out, and reads its header back for the summary. */
static int seal_package(const seal_args_t *a, seal_state_t *s)
{
	sd_seal_params_t p;
	sd_header_t *h = NULL;
	cli_progress_t prog;
	int fd, r;

	if (cli_stderr_is_tty())
		cli_note(a->quiet || a->json, _("deriving keys from the codename (Argon2id)..."));
	if ((r = sd_codename_derive(s->codename, s->dir->deployment, &s->dir->codename_kdf, &s->keys)) < 0)
		return r;
	cli_progress_init(&prog, _("sealing"), !a->quiet && !a->json);
	p = (sd_seal_params_t){.dir = s->dir,
	                       .wb = s->keys,
	                       .report = s->report,
	                       .report_len = s->report_len,
	                       .identity = s->identity,
	                       .identity_len = s->identity_len,
	                       .evidence = s->ev,
	                       .n_evidence = a->n_evidence,
	                       .created = sd_date_today(),
	                       .progress = cli_progress_cb,
	                       .progress_ctx = &prog};
	r = sd_envelope_seal(&p, a->out);
	cli_progress_end(&prog);
	if (r < 0)
		return r;
	/* The summary comes from the package itself, read back and its signature checked. */
	if ((fd = open(a->out, O_RDONLY | O_CLOEXEC)) < 0) {
		r = sd_error(SD_ERR_IO, "%s: %s", a->out, strerror(errno));
	} else {
		r = sd_header_read(fd, &h);
		close(fd);
	}
	if (r < 0) {
		r = cli_error_prefix(r, _("reading back %s"), a->out);
		unlink(a->out);
		return r;
	}
	r = summary(a, s, h);
	sd_header_free(h);
	return r;
}

static int seal_run(const seal_args_t *a)
{
	seal_state_t s;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = cli_check_absent(a->out)) < 0)
		goto out;
	if (a->codename_out != NULL && (r = cli_check_absent(a->codename_out)) < 0)
		goto out;
	if ((r = cli_directory_load(a->directory, a->root, &s.dir)) < 0 || (r = load_records(a, &s)) < 0 ||
	    (r = check_evidence(a, &s)) < 0 || (r = obtain_codename(a, &s)) < 0 || (r = seal_package(a, &s)) < 0)
		goto out;
	if (s.codename_written != NULL)
		cli_note(a->quiet,
		         _("The codename is in %s. Copy it to paper and delete the file: "
		           "a file is evidence on a seized device."),
		         s.codename_written);
out:
	if (r < 0 && s.codename_written != NULL)
		unlink(s.codename_written);
	cli_cleanup_path_set(NULL);
	seal_state_free(&s);
	return r;
}

static const struct option options[] = {
        {"directory", required_argument, NULL, OPT_DIRECTORY},
        {"root", required_argument, NULL, OPT_ROOT},
        {"report", required_argument, NULL, OPT_REPORT},
        {"identity", required_argument, NULL, OPT_IDENTITY},
        {"evidence", required_argument, NULL, OPT_EVIDENCE},
        {"out", required_argument, NULL, OPT_OUT},
        {"codename-out", required_argument, NULL, OPT_CODENAME_OUT},
        {"codename-file", required_argument, NULL, OPT_CODENAME_FILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* Returns -1 to go on, or the exit status (help, usage error). */
static int parse(int argc, char **argv, seal_args_t *a)
{
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(&cmd);
		case OPT_DIRECTORY:
			a->directory = optarg;
			break;
		case OPT_ROOT:
			a->root = optarg;
			break;
		case OPT_REPORT:
			a->report = optarg;
			break;
		case OPT_IDENTITY:
			a->identity = optarg;
			break;
		case OPT_EVIDENCE:
			a->evidence[a->n_evidence++] = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_CODENAME_OUT:
			a->codename_out = optarg;
			break;
		case OPT_CODENAME_FILE:
			a->codename_file = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_QUIET:
			a->quiet = true;
			break;
		default:
			return cli_opt_error(&cmd, argv, c);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd, _("unexpected argument '%s'"), argv[optind]);
	if (a->directory == NULL || a->root == NULL || a->report == NULL || a->identity == NULL || a->out == NULL)
		return cli_usage_error(&cmd, _("missing %s"),
		                       a->directory == NULL  ? "--directory"
		                       : a->root == NULL     ? "--root"
		                       : a->report == NULL   ? "--report"
		                       : a->identity == NULL ? "--identity"
		                                             : "--out");
	if (a->codename_out != NULL && a->codename_file != NULL)
		return cli_usage_error(&cmd, _("--codename-out and --codename-file exclude each other"));
	return -1;
}

int cmd_seal(int argc, char **argv)
{
	seal_args_t a;
	int r;

	memset(&a, 0, sizeof(a));
	/* Every --evidence fits: there are fewer of them than arguments. */
	if ((a.evidence = calloc((size_t)argc + 1, sizeof(*a.evidence))) == NULL)
		return cli_fail(cmd.name, SD_ERR_NOMEM);
	r = parse(argc, argv, &a);
	if (r < 0) {
		sd_error_clear();
		r = seal_run(&a);
		r = r < 0 ? cli_fail(cmd.name, r) : 0;
	}
	free(a.evidence);
	return r;
}
