/*
 * test_sealbox.c — sealed boxes (crypto/sealbox.c): a round trip to each X25519 kind, a
 * box opens with its key only, any altered byte or a truncated box is refused, and
 * Ed25519 keys and oversized messages are refused.
 */
#include "unit.h"
#include "sealdrop/sealbox.h"

static void test_round_trip_and_refusals(void **state)
{
	sd_seckey_t *intake = unit_key_from_byte(SD_KEY_INTAKE, 0x20), *other = unit_key_from_byte(SD_KEY_INTAKE, 0x40);
	sd_seckey_t *root = unit_key_from_byte(SD_KEY_ROOT, 0x00);
	sd_pubkey_t pk, rpk;
	const char *msg = "the agency concluded its inspection";
	uint8_t *box = NULL, *plain = NULL;
	size_t box_len = 0, plain_len = 0;

	(void)state;
	sd_seckey_public(intake, &pk);
	sd_seckey_public(root, &rpk);
	assert_int_equal(sd_sealbox_seal(&pk, (const uint8_t *)msg, strlen(msg), &box, &box_len), 0);
	assert_int_equal(box_len, strlen(msg) + SD_SEALBOX_OVERHEAD);
	assert_int_equal(sd_sealbox_open(intake, box, box_len, &plain, &plain_len), 0);
	assert_int_equal(plain_len, strlen(msg));
	assert_string_equal((const char *)plain, msg);
	sd_secret_free(plain);
	assert_int_equal(sd_sealbox_open(other, box, box_len, &plain, &plain_len), SD_ERR_VERIFY);
	for (size_t i = 0; i < box_len; i += 7) {
		box[i] ^= 0x01;
		assert_int_equal(sd_sealbox_open(intake, box, box_len, &plain, &plain_len), SD_ERR_VERIFY);
		box[i] ^= 0x01;
	}
	assert_int_equal(sd_sealbox_open(intake, box, SD_SEALBOX_OVERHEAD - 1, &plain, &plain_len), SD_ERR_TRUNCATED);
	assert_int_equal(sd_sealbox_open(root, box, box_len, &plain, &plain_len), SD_ERR_USAGE);
	free(box);
	assert_int_equal(sd_sealbox_seal(&rpk, (const uint8_t *)msg, 3, &box, &box_len), SD_ERR_USAGE);
	assert_null(box);
	assert_int_equal(sd_sealbox_seal(&pk, (const uint8_t *)msg, SD_SEALBOX_MAX + 1, &box, &box_len), SD_ERR_USAGE);
	assert_int_equal(sd_sealbox_seal(&pk, NULL, 0, &box, &box_len), 0);
	assert_int_equal(sd_sealbox_open(intake, box, box_len, &plain, &plain_len), 0);
	assert_int_equal(plain_len, 0);
	sd_secret_free(plain);
	free(box);
	sd_seckey_free(intake);
	sd_seckey_free(other);
	sd_seckey_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip_and_refusals),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
