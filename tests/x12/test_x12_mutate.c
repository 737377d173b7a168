/*
 * test_x12_mutate.c - hostile input: a seeded mutation loop over the
 * partner samples. Every mutant goes through x12t_check, which aborts if
 * the parser breaks an invariant or builds an acknowledgement that is not
 * itself clean X12; the sanitizer build turns any memory error into a
 * failure. The seed is printed; OMO_FUZZ_SEED=<seed> replays a run and
 * OMO_X12_MUTANTS=<n> sets how many mutants it tries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "x12.h"
#include "x12_test_util.h"

#define MAX_MUTANT 16384

static const char *const samples[] = {
    "x12_810_850_staedi_two_groups.edi", "x12_850_edinet_dropship_BAD_iea.edi",
    "x12_850_nodex12_vics.edi",          "x12_855_nodex12_ack_lines.edi",
    "x12_856_nodex12_4060_SOI.edi",      "x12_856_stupidedi_BAD_mixed_terminators.edi",
    "x12_940_x12types_babelway.edi",     "x12_945_x12types_BAD_se_count.edi",
    "x12_997_staedi_reject.edi",
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

/* xorshift64*: the whole run follows from the seed */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Bytes that matter to an X12 reader. */
static const char special[] = "*~>^:|\\!{$'\n\r\x1d\x1c\x00\xEF\xBB\xBF 0189AZ-.";
static const char *const snippets[] = {
    "ISA",
    "IEA*1*000000001~",
    "GS*PO*A*B*20240101*1200*1*X*004010~",
    "ST*850*0001~",
    "SE*2*0001~",
    "GE*1*1~",
    "BEG*00*SA*X**20240101~",
    "\r\n",
    "~~",
    "TA1*",
    "*****",
    ("ISA*00*          *00*          *ZZ*A              *ZZ*B              "
     "*240101*1200*^*00501*000000001*0*P*:~"),
};

static size_t mutate(uint8_t *b, size_t n, const uint8_t *other, size_t other_n)
{
	unsigned rounds = 1 + (unsigned)below(8);
	for (unsigned r = 0; r < rounds; r++) {
		size_t at = below(n + 1), len;
		switch (below(9)) {
		case 0: /* any byte */
			if (n)
				b[below(n)] = (uint8_t)rnd();
			break;
		case 1: /* a byte that means something */
			if (n)
				b[below(n)] = (uint8_t)special[below(sizeof special - 1)];
			break;
		case 2: /* delete a run */
			len = 1 + below(32);
			if (at + len > n)
				len = n - at;
			memmove(b + at, b + at + len, n - at - len);
			n -= len;
			break;
		case 3: /* repeat a run somewhere */
			if (!n)
				break;
			{
				size_t from = below(n);
				len = 1 + below(64);
				if (from + len > n)
					len = n - from;
				if (n + len > MAX_MUTANT)
					break;
				uint8_t tmp[64];
				memcpy(tmp, b + from, len);
				memmove(b + at + len, b + at, n - at);
				memcpy(b + at, tmp, len);
				n += len;
			}
			break;
		case 4: /* cut the end */ n = at; break;
		case 5: /* insert an envelope fragment */
		{
			const char *s = snippets[below(sizeof snippets / sizeof snippets[0])];
			len = strlen(s);
			if (n + len > MAX_MUTANT)
				break;
			memmove(b + at + len, b + at, n - at);
			memcpy(b + at, s, len);
			n += len;
		} break;
		case 6: /* swap two bytes */
			if (n > 1) {
				size_t i = below(n), j = below(n);
				uint8_t t = b[i];
				b[i] = b[j];
				b[j] = t;
			}
			break;
		case 7: /* every occurrence of one byte becomes another */
			if (n) {
				uint8_t from = b[below(n)],
				        to = (uint8_t)special[below(sizeof special - 1)];
				for (size_t i = 0; i < n; i++)
					if (b[i] == from)
						b[i] = to;
			}
			break;
		case 8: /* splice in part of another sample */
			len = below(other_n + 1);
			if (n + len > MAX_MUTANT)
				break;
			{
				size_t from = below(other_n - len + 1);
				memmove(b + at + len, b + at, n - at);
				memcpy(b + at, other + from, len);
				n += len;
			}
			break;
		}
	}
	return n;
}

static void test_mutants(void **state)
{
	(void)state;
	const char *env = getenv("OMO_FUZZ_SEED");
	uint64_t seed =
	    env ? strtoull(env, NULL, 0)
	        : ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 4) ^ (uint64_t)clock();
	if (seed == 0)
		seed = 1;
	const char *nenv = getenv("OMO_X12_MUTANTS");
	unsigned long mutants = nenv ? strtoul(nenv, NULL, 10) : 20000;
	printf("x12 mutation loop: OMO_FUZZ_SEED=%llu, %lu mutants\n", (unsigned long long)seed,
	       mutants);
	fflush(stdout);
	rng_state = seed;

	char *data[NSAMPLES];
	size_t len[NSAMPLES];
	for (size_t i = 0; i < NSAMPLES; i++)
		data[i] = x12t_load(samples[i], &len[i]);
	uint8_t *b = malloc(MAX_MUTANT);
	assert_non_null(b);
	unsigned long counts[X12_E_COUNT] = {0};
	for (unsigned long m = 0; m < mutants; m++) {
		size_t s = below(NSAMPLES), o = below(NSAMPLES);
		size_t n = len[s] < MAX_MUTANT ? len[s] : MAX_MUTANT;
		memcpy(b, data[s], n);
		n = mutate(b, n, (const uint8_t *)data[o], len[o]);
		/* an exact-size heap copy, so the sanitizer sees any overread */
		uint8_t *exact = malloc(n ? n : 1);
		assert_non_null(exact);
		memcpy(exact, b, n);
		x12_err e = x12t_check(exact, n);
		counts[e]++;
		free(exact);
	}
	/* the loop must have reached deep into the codec, not only bounced off the ISA */
	unsigned long deep = 0;
	for (int e = 0; e < X12_E_COUNT; e++) {
		x12_level lv = x12_err_level((x12_err)e);
		if (lv == X12_LEVEL_SET || lv == X12_LEVEL_SEGMENT || lv == X12_LEVEL_ELEMENT ||
		    lv == X12_LEVEL_GROUP)
			deep += counts[e];
	}
	printf("x12 mutation loop: %lu clean, %lu with group/set/segment errors\n", counts[0],
	       deep);
	assert_true(mutants < 1000 || (counts[0] > 0 && deep > mutants / 20));
	free(b);
	for (size_t i = 0; i < NSAMPLES; i++)
		free(data[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mutants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
