/*
 * test_cliconfig.c — the client's per-user config file (client/config.c,
 * cli_config_parse): every name read, the command line winning over the file, and each
 * malformed input refused with SD_ERR_CONFIG naming FILE:LINE.
 */
#include "unit.h"
#include "../../client/cli.h"

static void parse_ok(const char *text, cli_config_t *c)
{
	int r = cli_config_parse("t.conf", text, strlen(text), c);

	if (r != 0)
		fail_msg("refused: %s: %s", text, sd_error_detail());
}

static void refused(const char *text, const char *want)
{
	cli_config_t c;

	assert_int_equal(cli_config_parse("t.conf", text, strlen(text), &c), SD_ERR_CONFIG);
	if (strstr(sd_error_detail(), want) == NULL)
		fail_msg("%s: got '%s', want '%s'", text, sd_error_detail(), want);
}

static void test_every_name(void **state)
{
	cli_config_t c;
	cli_remote_opts_t o = {.server = "https://cli.example:8443"};

	(void)state;
	parse_ok("# defaults\n"
	         "server https://drop.example.org\n"
	         "\n"
	         "ca /etc/sealdrop/ca.pem\n"
	         "cert /home/park/officer.pem\n"
	         "key /home/park/officer.key\n"
	         "root /home/park/root.key.pub\n"
	         "intake /home/park/intake.key\n",
	         &c);
	assert_string_equal(c.value[CLI_CONFIG_SERVER], "https://drop.example.org");
	assert_string_equal(c.value[CLI_CONFIG_CA], "/etc/sealdrop/ca.pem");
	assert_string_equal(c.value[CLI_CONFIG_CERT], "/home/park/officer.pem");
	assert_string_equal(c.value[CLI_CONFIG_KEY], "/home/park/officer.key");
	assert_string_equal(c.value[CLI_CONFIG_ROOT], "/home/park/root.key.pub");
	assert_string_equal(c.value[CLI_CONFIG_INTAKE], "/home/park/intake.key");
	cli_config_apply(&c, &o);
	assert_string_equal(o.server, "https://cli.example:8443"); /* the command line wins */
	assert_string_equal(o.ca, "/etc/sealdrop/ca.pem");
	assert_string_equal(o.intake, "/home/park/intake.key");
	cli_config_free(&c);
	parse_ok("", &c);
	assert_null(c.value[CLI_CONFIG_SERVER]);
	cli_config_free(&c);
}

static void test_refusals(void **state)
{
	char big[CLI_CONFIG_MAX_BYTES + 2];

	(void)state;
	refused("server https://a\nserver https://b\n", "t.conf:2");
	refused("colour blue\n", "t.conf:1");
	refused("ca\n", "t.conf:1");
	refused("ca relative/path.pem\n", "t.conf:1");
	refused("server http://plain.example\n", "t.conf:1");
	refused("# fine\nca /a\x01/b\n", "t.conf:2");
	refused("ca /a\xff\xfe\n", "t.conf:1");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "larger than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_name),
	        cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
