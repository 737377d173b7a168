/*
 * test_x12_codec.c - the X12 codec on inputs made for each rule: every
 * envelope error with the acknowledgement it earns, delimiters and line
 * ends, the writer (round trips, envelopes, errors), GS1 check digits, exact
 * money, and the error table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x12.h"
#include "x12_ack.h"
#include "x12_test_util.h"
#include "x12_util.h"
#include "x12_write.h"

#define ELEM_EQ(doc, seg, pos, want) assert_string_equal(x12t_elem((doc), (seg), (pos)), (want))

/* A padded 4010 ISA (106 bytes with its terminator) and a clean 850. */
#define ISA4010                                                                                    \
	"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "                    \
	"*240101*1200*U*00401*000000001*0*P*>~"
#define ISA4010_ACK                                                                                \
	"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "                    \
	"*240101*1200*U*00401*000000001*1*P*>~"
#define GS_PO "GS*PO*SENDER*RECEIVER*20240101*1200*7*X*004010~"
#define SET850(ctl)                                                                                \
	"ST*850*" ctl "~BEG*00*SA*PO1**20240101~PO1*1*2*EA*3.5**UP*036000291452~CTT*1~SE*5*" ctl "~"
#define CLEAN ISA4010 GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~"

/* The acknowledgement's own envelope for a 4010 input from SENDER. */
#define ACK_ISA                                                                                    \
	"ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         "                    \
	"*240305*1430*U*00401*000000900*0*P*>~\n"
#define ACK_GS "GS*FA*RECEIVER*SENDER*20240305*1430*901*X*004010~\n"

static x12_err parse(x12_doc *doc, const char *s)
{
	return x12_parse(doc, s, strlen(s), NULL);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* Parses s, expects err, and expects its first interchange's acknowledgement. */
static void expect(const char *s, x12_err err, const char *ack)
{
	x12_doc doc;
	x12_err e = parse(&doc, s);
	if (e != err)
		fail_msg("got %s, want %s (%s)", x12_err_name(e), x12_err_name(err),
		         doc.ndiags ? doc.diags[0].text : "");
	if (ack) {
		x12_ack_result r;
		char *got = x12t_ack(&doc, 0, false, &r);
		assert_string_equal(got, ack);
		x12_doc back;
		assert_int_equal(parse(&back, got), X12_E_OK);
		x12_doc_fini(&back);
		free(got);
	}
	assert_int_equal(x12t_check((const uint8_t *)s, strlen(s)), err);
	x12_doc_fini(&doc);
}

/* ---- reading ------------------------------------------------------------- */

static void test_clean(void **state)
{
	(void)state;
	x12_doc doc;
	assert_int_equal(parse(&doc, CLEAN), X12_E_OK);
	assert_int_equal(doc.nics, 1);
	assert_int_equal(doc.nsegs, 9);
	assert_true(doc.ics[0].padded);
	assert_int_equal(doc.segs[0].len, 105);
	assert_int_equal(doc.sets[0].nseg, 5);
	assert_string_equal(doc.groups[0].control, "7");
	ELEM_EQ(&doc, 4, 7, "036000291452");
	x12_doc_fini(&doc);
	expect(CLEAN, X12_E_OK,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
}

/* The same interchange with every kind of line end, padded or not, with a BOM. */
static void test_line_ends_and_padding(void **state)
{
	(void)state;
	static const char *const inputs[] = {
	    ISA4010 "\n" GS_PO "\n" SET850("0001") "GE*1*7~\nIEA*1*000000001~\n",
	    ISA4010 "\r\n" GS_PO "\r\n" SET850("0001") "GE*1*7~\r\nIEA*1*000000001~\r\n",
	    "\xEF\xBB\xBF" ISA4010 "\r" GS_PO "\r" SET850("0001") "GE*1*7~IEA*1*000000001~",
	    "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*240101*1200*U*00401*000000001*0*P*>~" GS_PO SET850(
	        "0001") "GE*1*7~IEA*1*000000001~",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		x12_doc doc;
		assert_int_equal(parse(&doc, inputs[i]), X12_E_OK);
		assert_int_equal(doc.nsegs, 9);
		assert_int_equal(doc.bom, i == 2);
		assert_int_equal(doc.ics[0].padded, i != 3);
		assert_int_equal(doc.ics[0].d.seg, '~');
		ELEM_EQ(&doc, 3, 3, "PO1");
		ELEM_EQ(&doc, doc.ics[0].isa, 6, i == 3 ? "SENDER" : "SENDER         ");
		assert_string_equal(doc.sets[0].control, "0001");
		assert_true(x12_set_accepted(&doc, 0));
		x12_doc_fini(&doc);
	}
}

/* Two interchanges in one file, each with its own delimiters. */
static void test_two_interchanges(void **state)
{
	(void)state;
	const char *s =
	    CLEAN "\n"
	          "ISA|00|          |00|          |ZZ|A              |ZZ|B              "
	          "|240101|1200|!|00501|000000002|0|T|:'"
	          "GS|IN|A|B|20240101|1200|8|X|005010'"
	          "ST|810|0001|005010X999'BIG|20240101|INV1'REF|ZZ|X!Y:Z'SE|4|0001'"
	          "GE|1|8'IEA|1|000000002'";
	x12_doc doc;
	assert_int_equal(parse(&doc, s), X12_E_OK);
	assert_int_equal(doc.nics, 2);
	const x12_interchange *b = &doc.ics[1];
	assert_int_equal(b->d.elem, '|');
	assert_int_equal(b->d.comp, ':');
	assert_int_equal(b->d.rep, '!');
	assert_int_equal(b->d.seg, '\'');
	assert_int_equal(b->usage, 'T');
	uint32_t ref = x12t_find(&doc, b->isa, doc.nsegs - 1, "REF");
	char buf[16];
	ELEM_EQ(&doc, ref, 2, "X!Y:Z");
	assert_string_equal(x12_slice_copy(buf, sizeof buf, x12_elem_part(&doc, ref, 2, 1, 0)),
	                    "X");
	assert_string_equal(x12_slice_copy(buf, sizeof buf, x12_elem_part(&doc, ref, 2, 2, 0)),
	                    "Y:Z");
	assert_string_equal(x12_slice_copy(buf, sizeof buf, x12_elem_part(&doc, ref, 2, 2, 2)),
	                    "Z");
	assert_null(x12_elem_part(&doc, ref, 2, 2, 3).p);
	assert_null(x12_elem(&doc, ref, 3).p);
	x12_slice parts[8];
	assert_int_equal(x12_split(&doc, ref, parts, 8), 3);
	assert_true(x12_slice_eq(parts[0], "REF"));
	assert_true(x12_slice_eq(parts[1], "ZZ"));
	/* 5010 acknowledgement: AK1 carries GS08, AK2 carries ST03 */
	x12_ack_result r;
	char *ack = x12t_ack(&doc, 1, false, &r);
	assert_string_equal(ack,
	                    "ISA|00|          |00|          |ZZ|B              |ZZ|A              "
	                    "|240305|1430|!|00501|000000900|0|T|:'\n"
	                    "GS|FA|B|A|20240305|1430|901|X|005010'\n"
	                    "ST|997|0902'\nAK1|IN|8|005010'\nAK2|810|0001|005010X999'\n"
	                    "AK5|A'\nAK9|A|1|1|1'\nSE|6|0902'\nGE|1|901'\n"
	                    "IEA|1|000000900'\n");
	free(ack);
	x12_doc_fini(&doc);
}

/* ---- envelope errors and what they earn ---------------------------------- */

static void test_group_errors(void **state)
{
	(void)state;
	/* GE02 is not GS06: the whole group is rejected */
	expect(ISA4010 GS_PO SET850("0001") "GE*1*8~IEA*1*000000001~", X12_E_GE_CONTROL,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*R~\nAK9*R*1*1*0*4~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* GE01 is not the number of sets */
	expect(ISA4010 GS_PO SET850("0001") "GE*2*7~IEA*1*000000001~", X12_E_GE_COUNT,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*R~\nAK9*R*2*1*0*5~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* no GE: the IEA closes the group */
	expect(ISA4010 GS_PO SET850("0001") "IEA*1*000000001~", X12_E_GE_MISSING,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*R~\nAK9*R*1*1*0*3~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* GS06 is not a number */
	expect(ISA4010 "GS*PO*SENDER*RECEIVER*20240101*1200*7A*X*004010~" SET850(
	           "0001") "GE*1*7A~IEA*1*000000001~",
	       X12_E_GS_CONTROL, NULL);
}

static void test_set_errors(void **state)
{
	(void)state;
	/* no SE: the GE closes the set */
	expect(ISA4010 GS_PO "ST*850*0001~BEG*00*SA*PO1**20240101~CTT*1~GE*1*7~IEA*1*000000001~",
	       X12_E_SE_MISSING,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*R*2~\nAK9*R*1*1*0~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* SE02 is not ST02 */
	expect(ISA4010 GS_PO
	       "ST*850*0001~BEG*00*SA*PO1**20240101~SE*3*0002~GE*1*7~IEA*1*000000001~",
	       X12_E_SE_CONTROL,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*R*3~\nAK9*R*1*1*0~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* two sets with one control number: the second is rejected, the group partly */
	expect(ISA4010 GS_PO SET850("0001") SET850("0001") "GE*2*7~IEA*1*000000001~",
	       X12_E_ST_DUPLICATE,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*A~\nAK2*850*0001~\n"
	                      "AK5*R*23~\nAK9*P*2*2*1~\nSE*8*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* ST01 is not a set id, ST02 too short */
	expect(ISA4010 GS_PO "ST*85*01~BEG*00*SA*PO1**20240101~SE*3*01~GE*1*7~IEA*1*000000001~",
	       X12_E_ST_ID,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*85*01~\nAK5*R*6*7~\nAK9*R*1*1*0~\n"
	                      "SE*6*0902~\nGE*1*901~\nIEA*1*000000900~\n");
}

static void test_segment_errors(void **state)
{
	(void)state;
	/* an 850 must begin with BEG */
	expect(ISA4010 GS_PO "ST*850*0001~REF*DP*038~SE*3*0001~GE*1*7~IEA*1*000000001~",
	       X12_E_SEG_BEGIN,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK3*BEG*2**3~\nAK5*R*5~\n"
	                      "AK9*R*1*1*0~\nSE*7*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* a lower-case segment ID */
	expect(ISA4010 GS_PO
	       "ST*850*0001~BEG*00*SA*PO1**20240101~n1*ST*X~SE*4*0001~GE*1*7~IEA*1*000000001~",
	       X12_E_SEG_ID,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK3*n1*3**1~\nAK5*R*5~\n"
	                      "AK9*R*1*1*0~\nSE*7*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* a control character inside an element: AK4 with no copy of the bad data */
	expect(ISA4010 GS_PO "ST*850*0001~BEG*00*SA*P\001O1**20240101~SE*3*0001~GE*1*7~"
	                     "IEA*1*000000001~",
	       X12_E_ELEM_CHAR,
	       ACK_ISA ACK_GS "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK3*BEG*2**8~\nAK4*3**6~\n"
	                      "AK5*R*5~\nAK9*R*1*1*0~\nSE*8*0902~\nGE*1*901~\nIEA*1*000000900~\n");
	/* a line break in the middle of an element, not starting a segment */
	expect(ISA4010 GS_PO "ST*850*0001~BEG*00*SA*PO\n1**20240101~SE*3*0001~GE*1*7~"
	                     "IEA*1*000000001~",
	       X12_E_ELEM_CHAR, NULL);
	/* terminators mixed: '~' declared, a file that switches to line breaks */
	x12_doc doc;
	assert_int_equal(parse(&doc, ISA4010 GS_PO "ST*850*0001~BEG*00*SA*PO1**20240101\n"
	                                           "REF*DP*038\nSE*4*0001~GE*1*7~IEA*1*000000001~"),
	                 X12_E_MIXED_TERMINATORS);
	assert_contains(doc.diags[0].text,
	                "'1' and a line break at line 1 end a segment before REF");
	x12_doc_fini(&doc);
	/* the same in an envelope segment: the interchange is rejected with 004 */
	expect(ISA4010 "GS*PO*SENDER*RECEIVER*20240101*1200*7*X*004010\n" SET850(
	           "0001") "GE*1*7~IEA*1*000000001~",
	       X12_E_ENVELOPE_TERMINATORS,
	       "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         "
	       "*240305*1430*U*00401*000000900*0*P*>~\n"
	       "TA1*000000001*240101*1200*R*004~\nIEA*0*000000900~\n");
}

/* Interchange errors are answered by a TA1 alone. */
static void test_interchange_errors(void **state)
{
	(void)state;
#define TA1_ONLY(code) ACK_ISA "TA1*000000001*240101*1200*R*" code "~\nIEA*0*000000900~\n"
	expect(ISA4010 GS_PO SET850("0001") "GE*1*7~IEA*2*000000001~", X12_E_IEA_COUNT,
	       TA1_ONLY("021"));
	expect(ISA4010 GS_PO SET850("0001") "GE*1*7~IEA*1*000000002~", X12_E_IEA_CONTROL,
	       TA1_ONLY("001"));
	expect(ISA4010 GS_PO SET850("0001") "GE*1*7~", X12_E_IEA_MISSING, TA1_ONLY("023"));
	expect(ISA4010 GS_PO SET850("0001") "GE*1*7~IEA*1*000000001", X12_E_IEA_MISSING,
	       TA1_ONLY("023"));
	expect(ISA4010 GS_PO SET850("0001") "GE*1*7~REF*DP*038~IEA*1*000000001~", X12_E_CONTENT,
	       TA1_ONLY("024"));
	expect(ISA4010 SET850("0001") "IEA*0*000000001~", X12_E_CONTENT, TA1_ONLY("024"));
	expect(ISA4010 "GS*PO*SENDER*RECEIVER*20241301*1200*7*X*004010~" SET850(
	           "0001") "GE*1*7~IEA*1*000000001~",
	       X12_E_GS_INVALID, TA1_ONLY("024"));
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*240101*1200*U*00401*00000000A*0*P*>~" GS_PO SET850("0001") "GE*1*7~IEA*1*00000000A~",
	    X12_E_ISA_CONTROL, ACK_ISA "TA1*000000000*240101*1200*R*018~\nIEA*0*000000900~\n");
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*241301*1200*U*00401*000000001*0*P*>~" GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~",
	    X12_E_ISA_DATE, ACK_ISA "TA1*000000001*241301*1200*R*014~\nIEA*0*000000900~\n");
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*240101*1200*U*00401*000000001*2*P*>~" GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~",
	    X12_E_ISA_ACK_REQUESTED, TA1_ONLY("019"));
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*240101*1200*U*00401*000000001*0*X*>~" GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~",
	    X12_E_ISA_USAGE, NULL);
	/* ISA16 equals the element separator; the TA1 goes out with default delimiters */
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*240101*1200*U*00401*000000001*0*P**~" GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~",
	    X12_E_ISA_COMP_SEP, TA1_ONLY("027"));
	/* the terminator is a letter: nothing after the ISA can be read */
	expect("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	       "*240101*1200*U*00401*000000001*0*P*>A" GS_PO,
	       X12_E_ISA_TERMINATOR, TA1_ONLY("004"));
	/* 5010: ISA11 must be a separator */
	expect(
	    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	    "*240101*1200*R*00501*000000001*0*P*>~" GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~",
	    X12_E_ISA_REP_SEP, NULL);
#undef TA1_ONLY
}

/* A TA1 when asked for (ISA14 = 1), with the 997 beside it. */
static void test_ta1_requested(void **state)
{
	(void)state;
	expect(ISA4010_ACK GS_PO SET850("0001") "GE*1*7~IEA*1*000000001~", X12_E_OK,
	       ACK_ISA "TA1*000000001*240101*1200*A*000~\n" ACK_GS
	               "ST*997*0902~\nAK1*PO*7~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0902~\n"
	               "GE*1*901~\nIEA*1*000000900~\n");
}

/* A repeated group control number: AK905 19 exists from 5010 only. */
static void test_duplicate_group(void **state)
{
	(void)state;
	x12_doc doc;
	const char *s4010 =
	    ISA4010 GS_PO SET850("0001") "GE*1*7~" GS_PO SET850("0001") "GE*1*7~IEA*2*000000001~";
	assert_int_equal(parse(&doc, s4010), X12_E_GS_DUPLICATE);
	x12_ack_result r;
	char *ack = x12t_ack(&doc, 0, false, &r);
	assert_int_equal(r.n997, 2);
	assert_contains(ack, "AK1*PO*7~\nAK2*850*0001~\nAK5*R~\nAK9*R*1*1*0~\n");
	free(ack);
	x12_doc_fini(&doc);
	const char *s5010 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
	                    "*240101*1200*^*00501*000000001*0*P*:~"
	                    "GS*PO*SENDER*RECEIVER*20240101*1200*7*X*005010~" SET850(
	                        "0001") "GE*1*7~"
	                                "GS*PO*SENDER*RECEIVER*20240101*1200*007*X*005010~" SET850(
	                                    "0001") "GE*1*007~IEA*2*000000001~";
	assert_int_equal(parse(&doc, s5010), X12_E_GS_DUPLICATE);
	ack = x12t_ack(&doc, 0, false, &r);
	assert_contains(ack, "AK1*PO*007*005010~\nAK2*850*0001~\nAK5*R~\nAK9*R*1*1*0*19~\n");
	free(ack);
	x12_doc_fini(&doc);
}

static void test_not_x12(void **state)
{
	(void)state;
	x12_doc doc;
	assert_int_equal(x12_parse(&doc, NULL, 0, NULL), X12_E_NOT_X12);
	assert_int_equal(doc.nics, 0);
	x12_doc_fini(&doc);
	assert_int_equal(parse(&doc, "hello"), X12_E_NOT_X12);
	assert_contains(doc.diags[0].text, "line 1: the input does not begin with an ISA segment");
	x12_doc_fini(&doc);
	assert_int_equal(parse(&doc, "ISA"), X12_E_ISA_MALFORMED);
	x12_doc_fini(&doc);
	assert_int_equal(parse(&doc, "ISA1*"), X12_E_ISA_MALFORMED);
	x12_doc_fini(&doc);
	assert_int_equal(parse(&doc, "ISA*00*00*ZZ*A\n*ZZ*B*240101*1200*U*00401*000000001*0*P*>~"),
	                 X12_E_ISA_MALFORMED);
	x12_doc_fini(&doc);
	assert_int_equal(parse(&doc, CLEAN "\n\nsomething else"), X12_E_TRAILING_DATA);
	assert_int_equal(doc.nics, 1);
	assert_true(x12_set_accepted(&doc, 0)); /* what came before stands */
	x12_doc_fini(&doc);
	/* another ISA before IEA: the first interchange lost its trailer */
	assert_int_equal(parse(&doc, ISA4010 GS_PO SET850("0001") "GE*1*7~" CLEAN),
	                 X12_E_IEA_MISSING);
	assert_int_equal(doc.nics, 2);
	assert_int_equal(doc.ics[0].err, X12_E_IEA_MISSING);
	assert_int_equal(doc.ics[1].err, X12_E_OK);
	x12_doc_fini(&doc);
}

static void test_limits(void **state)
{
	(void)state;
	x12_doc doc;
	x12_opts o = {.max_input = 100};
	assert_int_equal(x12_parse(&doc, CLEAN, strlen(CLEAN), &o), X12_E_TOO_LARGE);
	x12_doc_fini(&doc);
	/* many errors: the first max_diags are kept, the rest counted */
	char buf[4096];
	int n =
	    snprintf(buf, sizeof buf, "%s%sST*850*0001~BEG*00*SA*PO1**20240101~", ISA4010, GS_PO);
	for (int i = 0; i < 20; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "REF*D\001P*038~");
	snprintf(buf + n, sizeof buf - (size_t)n, "SE*23*0001~GE*1*7~IEA*1*000000001~");
	x12_opts few = {.max_diags = 3};
	assert_int_equal(x12_parse(&doc, buf, strlen(buf), &few), X12_E_ELEM_CHAR);
	assert_int_equal(doc.ndiags, 3);
	assert_int_equal(doc.ndiags_lost, 17);
	assert_int_equal(doc.sets[0].nseg_errs, 20);
	assert_false(x12_set_accepted(&doc, 0));
	x12_doc_fini(&doc);
	/* too many elements in one segment */
	char *big = malloc(8192);
	n = snprintf(big, 8192, "%s%sST*850*0001~BEG*00*SA*PO1**20240101~REF", ISA4010, GS_PO);
	for (int i = 0; i < 1200; i++)
		big[n++] = '*';
	snprintf(big + n, 8192 - (size_t)n, "X~SE*4*0001~GE*1*7~IEA*1*000000001~");
	assert_int_equal(parse(&doc, big), X12_E_ELEM_TOO_MANY);
	x12_doc_fini(&doc);
	assert_int_equal(x12t_check((const uint8_t *)big, strlen(big)), X12_E_ELEM_TOO_MANY);
	free(big);
}

/* ---- the writer ---------------------------------------------------------- */

static const x12_envelope env4010 = {
    .sender_qual = "ZZ",
    .sender_id = "OMO",
    .receiver_qual = "01",
    .receiver_id = "123456789",
    .control = 42,
    .version = 401,
    .now_us = X12_TEST_NOW_US,
    .usage = 'T',
};

static const struct {
	const char *line, *upc, *name;
	uint64_t qty;
	int64_t cents;
} po_lines[] = {
    {"1", "036000291452", "SMALL WIDGET", 120, 925},
    {"2", "4006381333931", "MEDIUM WIDGET", 220, 1379},
    {"3", "96385074", "NANO WIDGET", 7, 750},
};

static void write_850(x12_writer *w, uint32_t st02)
{
	x12_w_set_begin(w, "850", st02, NULL);
	x12_w_segl(w, "BEG", "00", "DS", "PO-1001", NULL, "20240305");
	x12_w_segl(w, "REF", "DP", "038", NULL, NULL); /* trailing empties are dropped */
	x12_w_segl(w, "N1", "ST", "Jane Doe", "92", "STORE7");
	x12_w_segl(w, "N3", "126 Any St");
	int64_t total = 0;
	for (size_t i = 0; i < sizeof po_lines / sizeof po_lines[0]; i++) {
		x12_w_seg(w, "PO1");
		x12_w_elem(w, po_lines[i].line);
		x12_w_elem_uint(w, po_lines[i].qty);
		x12_w_elem(w, "EA");
		x12_w_elem_dec(w, po_lines[i].cents, 2);
		x12_w_elem(w, NULL);
		x12_w_elem(w, "UP");
		x12_w_elem(w, po_lines[i].upc);
		x12_w_seg_end(w);
		x12_w_segl(w, "PID", "F", NULL, NULL, NULL, po_lines[i].name);
		total += (int64_t)po_lines[i].qty * po_lines[i].cents;
	}
	x12_w_seg(w, "CTT");
	x12_w_elem_uint(w, sizeof po_lines / sizeof po_lines[0]);
	x12_w_seg_end(w);
	x12_w_seg(w, "AMT");
	x12_w_elem(w, "1");
	x12_w_elem_dec(w, total, 2);
	x12_w_seg_end(w);
	x12_w_set_end(w);
}

static void check_850(const x12_doc *doc, uint32_t si)
{
	const x12_set *set = &doc->sets[si];
	assert_true(x12_set_accepted(doc, si));
	assert_string_equal(set->id, "850");
	assert_int_equal(set->nseg, 14);
	ELEM_EQ(doc, set->st + 1, 3, "PO-1001");
	ELEM_EQ(doc, set->st + 1, 5, "20240305");
	uint32_t ref = x12t_find(doc, set->st, set->se, "REF");
	assert_int_equal(doc->segs[ref].nelem, 2);
	uint32_t n1 = x12t_find(doc, set->st, set->se, "N1");
	ELEM_EQ(doc, n1, 2, "Jane Doe");
	size_t k = 0;
	int64_t total = 0;
	for (uint32_t i = x12t_find(doc, set->st, set->se, "PO1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, set->se, "PO1"), k++) {
		assert_true(k < 3);
		x12_slice q = x12_elem(doc, i, 2), p = x12_elem(doc, i, 4), u = x12_elem(doc, i, 7);
		uint64_t qty;
		int64_t cents;
		assert_int_equal(x12_uint_parse(q.p, q.n, 1000000, &qty), X12_E_OK);
		assert_int_equal(x12_decimal_parse(p.p, p.n, 0, 2, &cents), X12_E_OK);
		assert_int_equal(qty, po_lines[k].qty);
		assert_int_equal(cents, po_lines[k].cents);
		assert_true(x12_slice_eq(u, po_lines[k].upc));
		assert_true(x12_gtin_valid(u.p, u.n));
		ELEM_EQ(doc, i + 1, 5, po_lines[k].name);
		total += (int64_t)qty * cents;
	}
	assert_int_equal(k, 3);
	x12_slice amt = x12_elem(doc, x12t_find(doc, set->st, set->se, "AMT"), 2);
	int64_t a;
	assert_int_equal(x12_decimal_parse(amt.p, amt.n, 0, 2, &a), X12_E_OK);
	assert_int_equal(a, total);
}

static void test_round_trip_4010(void **state)
{
	(void)state;
	x12_buf out = {0};
	x12_writer w;
	x12_writer_init(&w, &out, &env4010);
	x12_w_group_begin(&w, "PO", "OMO", "MFR", 7, "004010VICS");
	write_850(&w, 1);
	write_850(&w, 2);
	x12_w_group_end(&w);
	assert_int_equal(x12_writer_finish(&w), X12_E_OK);
	/* the ISA is fixed width, the counts are the writer's */
	assert_memory_equal(out.data,
	                    "ISA*00*          *00*          *ZZ*OMO            *01*123456789      "
	                    "*240305*1430*U*00401*000000042*0*T*>~",
	                    106);
	assert_non_null(strstr(out.data, "~REF*DP*038~"));
	assert_non_null(strstr(out.data, "~PO1*1*120*EA*9.25**UP*036000291452~"));
	assert_non_null(strstr(out.data, "~AMT*1*4196.3~"));
	assert_non_null(strstr(out.data, "~SE*14*0001~ST*850*0002~"));
	assert_non_null(strstr(out.data, "~GE*2*7~IEA*1*000000042~"));

	x12_doc doc;
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	assert_true(doc.ics[0].padded);
	assert_string_equal(doc.ics[0].control, "000000042");
	assert_string_equal(doc.groups[0].version, "004010VICS");
	assert_int_equal(doc.nsets, 2);
	check_850(&doc, 0);
	check_850(&doc, 1);
	x12_doc_fini(&doc);
	x12_buf_fini(&out);
}

/* 5010 with chosen delimiters, repetitions, composites and an SSCC. */
static void test_round_trip_5010(void **state)
{
	(void)state;
	x12_envelope e = env4010;
	e.version = 501;
	e.d = (x12_delims){'|', '\\', '!', '\''};
	e.newline = true;
	e.ack_requested = true;
	x12_buf out = {0};
	x12_writer w;
	x12_writer_init(&w, &out, &e);
	x12_w_group_begin(&w, "PO", "OMO", "MFR", 8, NULL);
	write_850(&w, 11);
	x12_w_group_end(&w);
	x12_w_group_begin(&w, "SH", "OMO", "MFR", 9, NULL);
	x12_w_set_begin(&w, "856", 12, "005010X999");
	x12_w_segl(&w, "BSN", "00", "SHIP1", "20240305", "1430");
	x12_w_segl(&w, "HL", "1", NULL, "S");
	x12_w_segl(&w, "HL", "2", "1", "P");
	x12_w_segl(&w, "MAN", "GM", "00106141411234567897");
	x12_w_seg(&w, "REF");
	x12_w_elem(&w, "ZZ");
	x12_w_elem(&w, "A");
	x12_w_rep(&w, "B");
	x12_w_comp(&w, "C");
	x12_w_seg_end(&w);
	x12_w_set_end(&w);
	x12_w_group_end(&w);
	assert_int_equal(x12_writer_finish(&w), X12_E_OK);
	assert_memory_equal(out.data,
	                    "ISA|00|          |00|          |ZZ|OMO            |01|123456789      "
	                    "|240305|1430|!|00501|000000042|1|T|\\'\n",
	                    107);
	assert_non_null(strstr(out.data, "GS|PO|OMO|MFR|20240305|1430|8|X|005010'\n"));
	assert_non_null(strstr(out.data, "ST|856|0012|005010X999'\n"));
	assert_non_null(strstr(out.data, "REF|ZZ|A!B\\C'\nSE|7|0012'\n"));

	x12_doc doc;
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	assert_int_equal(doc.ics[0].d.rep, '!');
	assert_true(doc.ics[0].ack_requested);
	assert_int_equal(doc.ngroups, 2);
	check_850(&doc, 0);
	const x12_set *asn = &doc.sets[1];
	assert_int_equal(asn->nseg, 7);
	uint32_t man = x12t_find(&doc, asn->st, asn->se, "MAN");
	x12_slice sscc = x12_elem(&doc, man, 2);
	assert_true(x12_sscc_valid(sscc.p, sscc.n));
	uint32_t ref = x12t_find(&doc, asn->st, asn->se, "REF");
	char b[16];
	assert_string_equal(x12_slice_copy(b, sizeof b, x12_elem_part(&doc, ref, 2, 2, 2)), "C");
	x12_doc_fini(&doc);
	x12_buf_fini(&out);
}

static void test_writer_errors(void **state)
{
	(void)state;
	x12_buf out = {0};
	x12_writer w;
	/* a delimiter inside a value is refused, never escaped */
	x12_writer_init(&w, &out, &env4010);
	x12_w_group_begin(&w, "PO", "OMO", "MFR", 7, NULL);
	x12_w_set_begin(&w, "850", 1, NULL);
	x12_w_segl(&w, "N1", "ST", "A*B");
	assert_int_equal(x12_writer_err(&w), X12_E_W_DELIM);
	x12_w_set_end(&w);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_DELIM);
	out.len = 0;
	/* out of order */
	x12_writer_init(&w, &out, &env4010);
	x12_w_set_begin(&w, "850", 1, NULL);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_STATE);
	out.len = 0;
	x12_writer_init(&w, &out, &env4010);
	x12_w_group_begin(&w, "PO", "OMO", "MFR", 7, NULL);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_STATE); /* group still open */
	out.len = 0;
	x12_writer_init(&w, &out, &env4010);
	x12_w_rep(&w, "x"); /* no segment, and 4010 has no repetitions */
	assert_int_equal(x12_writer_finish(&w), X12_E_W_STATE);
	out.len = 0;
	/* envelope values */
	x12_envelope e = env4010;
	e.control = 0;
	x12_writer_init(&w, &out, &e);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_VALUE);
	out.len = 0;
	e = env4010;
	e.sender_id = "SIXTEEN-CHARS-ID";
	x12_writer_init(&w, &out, &e);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_VALUE);
	out.len = 0;
	e = env4010;
	e.d = (x12_delims){'*', '*', 0, '~'};
	x12_writer_init(&w, &out, &e);
	assert_int_equal(x12_writer_finish(&w), X12_E_W_VALUE);
	out.len = 0;
	x12_writer_init(&w, &out, &env4010);
	x12_w_seg(&w, "lower");
	assert_int_equal(x12_writer_finish(&w), X12_E_W_VALUE);
	x12_buf_fini(&out);
}

static void test_writer_numbers(void **state)
{
	(void)state;
	static const struct {
		int64_t minor;
		unsigned scale;
		const char *want;
	} cases[] = {
	    {925, 2, "9.25"}, {750, 2, "7.5"},
	    {1000, 2, "10"},  {-5, 2, "-0.05"},
	    {0, 2, "0"},      {60310, 3, "60.31"},
	    {42, 0, "42"},    {INT64_MIN, 2, "-92233720368547758.08"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		x12_buf out = {0};
		x12_writer w;
		x12_writer_init(&w, &out, &env4010);
		size_t mark = out.len;
		x12_w_seg(&w, "TA1");
		x12_w_elem_dec(&w, cases[i].minor, cases[i].scale);
		x12_w_seg_end(&w);
		assert_int_equal(x12_writer_err(&w), X12_E_OK);
		char want[64];
		snprintf(want, sizeof want, "TA1*%s~", cases[i].want);
		assert_int_equal(out.len - mark, strlen(want));
		assert_memory_equal(out.data + mark, want, strlen(want));
		int64_t back;
		assert_int_equal(x12_decimal_parse(cases[i].want, strlen(cases[i].want), 0,
		                                   cases[i].scale, &back),
		                 cases[i].minor == INT64_MIN ? X12_E_NUM_RANGE : X12_E_OK);
		if (cases[i].minor != INT64_MIN)
			assert_int_equal(back, cases[i].minor);
		x12_buf_fini(&out);
	}
	int y, mo, d, h, mi;
	x12_utc_parts(0, &y, &mo, &d, &h, &mi);
	assert_true(y == 1970 && mo == 1 && d == 1 && h == 0 && mi == 0);
	x12_utc_parts(X12_TEST_NOW_US, &y, &mo, &d, &h, &mi);
	assert_true(y == 2024 && mo == 3 && d == 5 && h == 14 && mi == 30);
	x12_utc_parts(951782400LL * 1000000, &y, &mo, &d, &h, &mi); /* 2000-02-29 */
	assert_true(y == 2000 && mo == 2 && d == 29);
	x12_utc_parts(-1, &y, &mo, &d, &h, &mi);
	assert_true(y == 1969 && mo == 12 && d == 31 && h == 23 && mi == 59);
}

/* ---- helpers ------------------------------------------------------------- */

static bool gtin(const char *s)
{
	return x12_gtin_valid(s, strlen(s));
}

static void test_check_digits(void **state)
{
	(void)state;
	assert_true(gtin("4006381333931")); /* EAN-13 */
	assert_false(gtin("4006381333932"));
	assert_true(gtin("036000291452"));   /* UPC-A */
	assert_true(gtin("9780306406157"));  /* ISBN-13 */
	assert_true(gtin("96385074"));       /* EAN-8 */
	assert_true(gtin("10036000291459")); /* GTIN-14 */
	assert_false(gtin("10036000291458"));
	assert_false(gtin("03600029145")); /* 11 digits is no GTIN */
	assert_false(gtin("03600029145X"));
	assert_true(x12_gln_valid("0614141000036", 13));
	assert_false(x12_gln_valid("0614141000037", 13));
	assert_true(x12_sscc_valid("106141411234567897", 18));
	assert_true(x12_sscc_valid("00106141411234567897", 20));
	assert_false(x12_sscc_valid("01106141411234567897", 20));
	assert_false(x12_sscc_valid("106141411234567890", 18));
	assert_int_equal(x12_gs1_check_digit("400638133393", 12), 1);
	assert_int_equal(x12_gs1_check_digit("", 0), -1);
	assert_int_equal(x12_gs1_check_digit("12a", 3), -1);
	assert_false(x12_gs1_valid(NULL, 0));
}

static void test_decimals(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		unsigned implied, scale;
		x12_err err;
		int64_t want;
	} cases[] = {
	    {"9.25", 0, 2, X12_E_OK, 925},
	    {"7.5", 0, 2, X12_E_OK, 750},
	    {"5.", 0, 2, X12_E_OK, 500},
	    {".5", 0, 2, X12_E_OK, 50},
	    {"255438", 2, 2, X12_E_OK, 255438}, /* N2 */
	    {"255438", 2, 4, X12_E_OK, 25543800},
	    {"255438", 0, 2, X12_E_OK, 25543800},
	    {"-3.1", 0, 2, X12_E_OK, -310},
	    {"12.340", 0, 2, X12_E_OK, 1234},
	    {"0.000000000000000000000000", 0, 2, X12_E_OK, 0},
	    {"9223372036854775807", 0, 0, X12_E_OK, INT64_MAX},
	    {"-9223372036854775807", 0, 0, X12_E_OK, -INT64_MAX},
	    {"12.345", 0, 2, X12_E_NUM_PRECISION, 0},
	    {"1235", 3, 2, X12_E_NUM_PRECISION, 0},
	    {"1230", 3, 2, X12_E_OK, 123},
	    {"9223372036854775808", 0, 0, X12_E_NUM_RANGE, 0},
	    {"92233720368547758.08", 0, 2, X12_E_NUM_RANGE, 0},
	    {"99999999999999999999999", 0, 0, X12_E_NUM_RANGE, 0},
	    {"1", 0, 19, X12_E_NUM_RANGE, 0},
	    {"", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {"-", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {".", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {"1.2.3", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {"+5", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {"1e5", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {" 5", 0, 2, X12_E_NUM_SYNTAX, 0},
	    {"1,50", 0, 2, X12_E_NUM_SYNTAX, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = 12345;
		x12_err e = x12_decimal_parse(cases[i].s, strlen(cases[i].s), cases[i].implied,
		                              cases[i].scale, &v);
		if (e != cases[i].err)
			fail_msg("'%s': %s, want %s", cases[i].s, x12_err_name(e),
			         x12_err_name(cases[i].err));
		assert_int_equal(v, e == X12_E_OK ? cases[i].want : 12345);
	}
	uint64_t u;
	assert_int_equal(x12_uint_parse("000123", 6, 999, &u), X12_E_OK);
	assert_int_equal(u, 123);
	assert_int_equal(x12_uint_parse("1000", 4, 999, &u), X12_E_NUM_RANGE);
	assert_int_equal(x12_uint_parse("12x", 3, 999, &u), X12_E_NUM_SYNTAX);
	assert_int_equal(x12_uint_parse(NULL, 0, 999, &u), X12_E_NUM_SYNTAX);
}

/* ---- the error table ----------------------------------------------------- */

static void test_error_table(void **state)
{
	(void)state;
	for (int e = 0; e < X12_E_COUNT; e++) {
		assert_true(strlen(x12_err_name((x12_err)e)) > 1);
		assert_true(strlen(x12_strerror((x12_err)e)) > 5);
		for (int f = 0; f < e; f++)
			assert_string_not_equal(x12_err_name((x12_err)e), x12_err_name((x12_err)f));
		x12_level lv = x12_err_level((x12_err)e);
		/* everything acknowledgeable has a code in the current code lists */
		assert_int_equal(lv != X12_LEVEL_NONE, *x12_err_ack_code((x12_err)e, 501) != 0);
	}
	assert_string_equal(x12_err_name(X12_E_SE_COUNT), "SE_COUNT");
	assert_string_equal(x12_err_ack_code(X12_E_SE_COUNT, 401), "4");
	assert_string_equal(x12_err_ack_code(X12_E_IEA_CONTROL, 401), "001");
	assert_string_equal(x12_err_ack_code(X12_E_GS_DUPLICATE, 401), "");
	assert_string_equal(x12_err_ack_code(X12_E_GS_DUPLICATE, 501), "19");
	assert_int_equal(x12_err_level(X12_E_MIXED_TERMINATORS), X12_LEVEL_ELEMENT);
	assert_string_equal(x12_err_name((x12_err)999), "UNKNOWN");
	assert_string_equal(x12_begin_segment("850"), "BEG");
	assert_null(x12_begin_segment("123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_line_ends_and_padding),
	    cmocka_unit_test(test_two_interchanges),
	    cmocka_unit_test(test_group_errors),
	    cmocka_unit_test(test_set_errors),
	    cmocka_unit_test(test_segment_errors),
	    cmocka_unit_test(test_interchange_errors),
	    cmocka_unit_test(test_ta1_requested),
	    cmocka_unit_test(test_duplicate_group),
	    cmocka_unit_test(test_not_x12),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_round_trip_4010),
	    cmocka_unit_test(test_round_trip_5010),
	    cmocka_unit_test(test_writer_errors),
	    cmocka_unit_test(test_writer_numbers),
	    cmocka_unit_test(test_check_digits),
	    cmocka_unit_test(test_decimals),
	    cmocka_unit_test(test_error_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
