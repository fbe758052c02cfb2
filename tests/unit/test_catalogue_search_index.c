/*
 * Unit tests of the catalogue's in-process search index
 * (services/catalogue/search_index.c): the normal form, trigram similarity,
 * and the ranking rules it shares with store_procedure_search.c's SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search_index.h"

/* Adds a procedure whose code and name words are weight A and whose
   description words are not. */
static void add(struct search_index *idx, const char *code, const char *name,
                const char *description, const char *sector)
{
    const char *terms[32];
    bool in_name[32];
    char buf[512];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s %s | %s", code, name, description);
    bool name_part = true;
    for (char *t = strtok(buf, " "); t != NULL; t = strtok(NULL, " ")) {
        if (strcmp(t, "|") == 0) {
            name_part = false;
            continue;
        }
        terms[n] = t;
        in_name[n++] = name_part;
    }
    const char *channels[] = {"online"};
    const char *agencies[] = {"000.00.00.H56"};
    char summary[160];
    snprintf(summary, sizeof summary, "{\"code\": \"%s\"}", code);
    struct search_index_doc d = {
        .code = code, .search_name = name, .summary_json = summary, .sector_code = sector,
        .admin_level = "commune", .online_level = 4, .agencies = agencies, .n_agencies = 1,
        .channels = channels, .n_channels = 1, .terms = terms, .in_name = in_name, .n_terms = n};
    assert_true(search_index_add_doc(idx, &d));
}

static struct search_index *demo(void)
{
    struct search_index *idx = search_index_new();
    assert_non_null(idx);
    add(idx, "1.001", "dang ky khai sinh", "tre em moi sinh", "ho-tich");
    add(idx, "1.002", "dang ky khai sinh ket hop", "khai sinh va thuong tru", "ho-tich");
    add(idx, "1.003", "dang ky ket hon", "hai ben nam nu", "ho-tich");
    add(idx, "1.004", "cap lai giay phep lai xe", "bang lai bi mat", "giao-thong");
    add(idx, "1.005", "cap giay phep xay dung", "nha o rieng le", "xay-dung");
    add(idx, "1.006", "chung thuc chu ki", "chu ky tren giay to", "tu-phap");
    /* PostgreSQL's lexemes of the code 9.000001.Tab12: 9.000001 and tab12 */
    add(idx, "9.000001", "tab12 giay to khac", "", "tu-phap");
    assert_true(search_index_add_filler(idx, "toi"));
    assert_true(search_index_add_filler(idx, "muon"));
    assert_true(search_index_add_filler(idx, "lam"));
    assert_true(search_index_add_synonym(idx, "gplx", "giay phep lai xe"));
    assert_true(search_index_add_synonym(idx, "bang lai", "giay phep lai xe"));
    assert_true(search_index_finish(idx));
    return idx;
}

/* The codes answered for qn, space-separated, into out; the outcome. */
static enum search_index_outcome codes(const struct search_index *idx, const char *qn,
                                       const struct search_index_filter *f, size_t limit,
                                       char *out, size_t len)
{
    struct search_index_filter none = {0};
    struct search_index_hit *hits = NULL;
    size_t n = 0;
    enum search_index_outcome o = search_index_query(idx, qn, f != NULL ? f : &none, limit, &hits, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i > 0 ? " " : "", hits[i].code);
    free(hits);
    return o;
}

static long long rank_of(const struct search_index *idx, const char *qn, const char *code)
{
    struct search_index_filter none = {0};
    struct search_index_hit *hits = NULL;
    size_t n = 0;
    long long rank = -1;
    assert_int_equal(search_index_query(idx, qn, &none, 100, &hits, &n), SEARCH_INDEX_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(hits[i].code, code) == 0)
            rank = hits[i].rank;
    free(hits);
    return rank;
}

static void test_norm(void **state)
{
    (void)state;
    char *n = search_index_norm("  Đăng   Ký\tKHAI sinh Ở ĐÂU  ");
    assert_string_equal(n, "dang ky khai sinh o dau");
    free(n);
    n = search_index_norm("Giấy phép lái xe hạng A1 — 2024");
    assert_string_equal(n, "giay phep lai xe hang a1 — 2024"); /* other characters kept */
    free(n);
    char long_text[600];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    n = search_index_norm(long_text);
    assert_int_equal(strlen(n), 200);
    free(n);
}

static void test_trigram_similarity(void **state)
{
    (void)state;
    assert_true(search_index_trigram_similarity("nghiep", "nghiep") == 1.0);
    /* pg_trgm: {"  n"," ng","ngh","ghe","hep","ep "} and 7 trigrams, 4 shared: 4/9 */
    double sim = search_index_trigram_similarity("nghep", "nghiep");
    assert_true(sim > 4.0 / 9.0 - 1e-9 && sim < 4.0 / 9.0 + 1e-9);
    assert_true(search_index_trigram_similarity("khia", "khai") < 0.3);
}

static void test_exact_name_first_then_shorter_name(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "dang ky khai sinh", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.001 1.002 1.003");
    /* exact name 20 + 8 x whole coverage + every name word hit */
    assert_int_equal(rank_of(idx, "dang ky khai sinh", "1.001"), 29000000);
    /* name prefix 10 + 8 + 4 of 6 name words */
    assert_int_equal(rank_of(idx, "dang ky khai sinh", "1.002"), 18666667);
    /* "khai sinh": the shorter name covers a larger share */
    assert_int_equal(codes(idx, "khai sinh", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.001 1.002");
    search_index_free(idx);
}

static void test_words_not_all_required_and_fillers_count_little(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "toi muon lam khai sinh", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.001");
    /* "ket hon" covers most of the rare words: the marriage first */
    assert_int_equal(codes(idx, "dang ky ket hon nhanh", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.003");
    search_index_free(idx);
}

static void test_synonyms_add_a_reading(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    /* the building permit covers "giay phep" of "giay phep lai xe" only */
    assert_int_equal(codes(idx, "gplx", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.004 1.005");
    assert_int_equal(codes(idx, "cap lai bang lai", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.004");
    search_index_free(idx);
}

static void test_misspelt_run_together_and_iy(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "khai sinhh", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.001"); /* nearest known term */
    assert_int_equal(codes(idx, "dangky ket hon", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.003"); /* split into dang + ky */
    /* "ky" matches the name's "ki": every word whole in the name, 8 + 1 */
    assert_int_equal(rank_of(idx, "chung thuc chu ky", "1.006"), 9000000);
    search_index_free(idx);
}

static void test_last_word_is_a_prefix(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "giay phep xay d", NULL, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.005");
    search_index_free(idx);
}

static void test_filters_and_cursor(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    struct search_index_filter f = {.sector = "giao-thong"};
    assert_int_equal(codes(idx, "cap giay phep", &f, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "1.004");
    struct search_index_filter g = {.channel = "postal"};
    assert_int_equal(codes(idx, "cap giay phep", &g, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "");
    /* keyset: after the first answer's (rank, code) comes the second */
    struct search_index_hit *hits = NULL;
    size_t n = 0;
    struct search_index_filter none = {0};
    assert_int_equal(search_index_query(idx, "dang ky", &none, 10, &hits, &n), SEARCH_INDEX_OK);
    assert_int_equal(n, 4); /* and 1.006 through "ki" */
    struct search_index_filter after = {.has_cursor = true, .cursor_rank = hits[0].rank,
                                        .cursor_code = hits[0].code};
    assert_int_equal(codes(idx, "dang ky", &after, 10, out, sizeof out), SEARCH_INDEX_OK);
    char expect[64];
    snprintf(expect, sizeof expect, "%s %s %s", hits[1].code, hits[2].code, hits[3].code);
    assert_string_equal(out, expect);
    free(hits);
    search_index_free(idx);
}

static void test_a_code_with_a_suffix(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "9.000001.tab12", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "9.000001");
    search_index_free(idx);
}

static void test_nothing_matches(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char out[256];
    assert_int_equal(codes(idx, "xqzvw", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "");
    assert_int_equal(codes(idx, "--", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "");
    search_index_free(idx);
}

/* When no word of the query matches, names word-similar to the whole query
   answer, scored like pg_trgm (figures from PostgreSQL 16's word_similarity
   and similarity, through float4 and numeric like the SQL). */
static void test_whole_query_trigram_fallback(void **state)
{
    (void)state;
    struct search_index *idx = search_index_new();
    const char *names[] = {"cap giay phep xay dung", "cap lai giay phep lai xe",
                           "dang ky khai sinh", "giay phep"};
    const char *codes_[] = {"1.001", "1.002", "1.003", "1.004"};
    for (size_t i = 0; i < 4; i++) {
        struct search_index_doc d = {.code = codes_[i], .search_name = names[i],
                                     .summary_json = "{}", .sector_code = "s",
                                     .admin_level = "commune", .online_level = 4};
        assert_true(search_index_add_doc(idx, &d)); /* no lexemes: no word can match */
    }
    assert_true(search_index_finish(idx));
    struct search_index_filter none = {0};
    struct search_index_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(search_index_query(idx, "giay phepp", &none, 10, &hits, &n), SEARCH_INDEX_OK);
    assert_int_equal(n, 3);
    assert_string_equal(hits[0].code, "1.004");
    assert_int_equal(hits[0].rank, 1568180); /* 0.8181818 + 0.75 */
    assert_string_equal(hits[1].code, "1.002");
    assert_int_equal(hits[1].rank, 1209490); /* 0.8181818 + 0.39130434 */
    assert_string_equal(hits[2].code, "1.001");
    assert_int_equal(hits[2].rank, 1193180); /* 0.8181818 + 0.375 */
    free(hits);
    /* two characters are too few to compare */
    assert_int_equal(search_index_query(idx, "gi", &none, 10, &hits, &n), SEARCH_INDEX_OK);
    assert_int_equal(n, 0);
    free(hits);
    search_index_free(idx);
}

static void test_did_you_mean(void **state)
{
    (void)state;
    struct search_index *idx = demo();
    char *s = search_index_suggest(idx, "dang ky khia sinhh");
    assert_string_equal(s, "dang ky khia sinh"); /* "khia" is too unlike "khai" */
    free(s);
    assert_null(search_index_suggest(idx, "dang ky khai sinh")); /* nothing to fix */
    assert_null(search_index_suggest(idx, "xqz toi")); /* short, or a filler word */
    search_index_free(idx);
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The nearest known term comes from trigram postings (issue 14): it must be
   the term a full scan of the vocabulary picks (the most similar by
   search_index_trigram_similarity, >= 0.3, the first in term order on a
   tie), for misspellings near many terms and near none. */
static void test_nearest_term_is_the_full_scan_answer(void **state)
{
    (void)state;
    static const char *const syllables[] = {
        "dang", "ky", "khai", "sinh", "ket", "hon", "giay", "phep", "lai", "xe", "xay", "dung",
        "chung", "thuc", "ban", "sao", "thuong", "tru", "tam", "tach", "nghiep", "doanh", "kinh",
        "truong", "hoc", "nhan", "khoang", "thuy", "karaoke", "quang", "phuong", "thanh"};
    const size_t n_syl = sizeof syllables / sizeof *syllables;
    struct search_index *idx = search_index_new();
    const char *vocabulary[80];
    size_t n_vocab = 0;
    char codes_[40][16], names[40][64];
    for (size_t i = 0; i < 40; i++) {
        snprintf(codes_[i], sizeof codes_[i], "3.%06zu", i);
        snprintf(names[i], sizeof names[i], "%s %s %s", syllables[i % n_syl],
                 syllables[(i * 7 + 3) % n_syl], syllables[(i * 11 + 5) % n_syl]);
        const char *terms[4] = {codes_[i], syllables[i % n_syl], syllables[(i * 7 + 3) % n_syl],
                                syllables[(i * 11 + 5) % n_syl]};
        bool in_name[4] = {true, true, true, true};
        struct search_index_doc d = {.code = codes_[i], .search_name = names[i],
                                     .summary_json = "{}", .sector_code = "s",
                                     .admin_level = "commune", .online_level = 4, .terms = terms,
                                     .in_name = in_name, .n_terms = 4};
        assert_true(search_index_add_doc(idx, &d));
    }
    assert_true(search_index_finish(idx));
    for (size_t i = 0; i < 40; i++)
        vocabulary[n_vocab++] = codes_[i];
    for (size_t i = 0; i < n_syl; i++)
        vocabulary[n_vocab++] = syllables[i];
    qsort(vocabulary, n_vocab, sizeof *vocabulary, cmp_text);
    static const char *const typos[] = {"khia", "sinhh", "truongg", "ngiep", "doanhh", "karaok",
                                        "phuongg", "thanhh", "xyzw", "qqqq", "dungg", "chungg",
                                        "kinhdoanh", "thuongtru"};
    for (size_t t = 0; t < sizeof typos / sizeof *typos; t++) {
        const char *best = NULL;
        double best_sim = 0.3;
        for (size_t v = 0; v < n_vocab; v++) {
            double sim = search_index_trigram_similarity(vocabulary[v], typos[t]);
            if (sim > best_sim || (sim == best_sim && best == NULL)) {
                best = vocabulary[v];
                best_sim = sim;
            }
        }
        char *got = search_index_suggest(idx, typos[t]);
        if (best == NULL)
            assert_null(got);
        else
            assert_string_equal(got, best);
        free(got);
    }
    search_index_free(idx);
}

/* Equal ranks come in code order, whatever order the procedures were added
   in, and a cursor inside a run of ties goes on after its code. */
static void test_ties_in_code_order(void **state)
{
    (void)state;
    struct search_index *idx = search_index_new();
    const char *order[] = {"2.000003", "10.000001", "2.000001", "2.000002"};
    for (size_t i = 0; i < 4; i++) {
        const char *terms[] = {order[i], "ho", "tich"};
        bool in_name[] = {true, true, true};
        struct search_index_doc d = {.code = order[i], .search_name = "ho tich",
                                     .summary_json = "{}", .sector_code = "s",
                                     .admin_level = "commune", .online_level = 4, .terms = terms,
                                     .in_name = in_name, .n_terms = 3};
        assert_true(search_index_add_doc(idx, &d));
    }
    assert_true(search_index_finish(idx));
    char out[256];
    assert_int_equal(codes(idx, "ho tich", NULL, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "10.000001 2.000001 2.000002 2.000003");
    long long rank = rank_of(idx, "ho tich", "2.000001");
    struct search_index_filter after = {.has_cursor = true, .cursor_rank = rank,
                                        .cursor_code = "2.000001"};
    assert_int_equal(codes(idx, "ho tich", &after, 10, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "2.000002 2.000003");
    assert_int_equal(codes(idx, "ho tich", &after, 1, out, sizeof out), SEARCH_INDEX_OK);
    assert_string_equal(out, "2.000002");
    search_index_free(idx);
}

/* The shortcuts of the query (issue 14: per-candidate lookups of common words,
   the per-thread scratch) must not change an answer: over a generated index of
   3,000 procedures (common, rare and very rare name words, description words
   every procedure holds, two sectors), many random queries of 1 to 4 words (known
   words, prefixes, run-together and misspelt words, fillers, synonyms, words
   only the trigram fallback answers), with
   and without a filter, page by page, answer exactly the same hits (codes,
   ranks, order) as the exhaustive scoring of every posting and candidate
   (no early termination). */
static void test_shortcuts_answer_as_the_exhaustive_scoring(void **state)
{
    (void)state;
    static const char *const rare[] = {
        "karaoke", "xang", "thuoc", "buyt", "thuy", "mam", "khoang", "giet", "tau", "rung",
        "loi", "bon", "lu", "hanh", "non", "nghe", "vat", "lieu", "dau", "quang"};
    static const char *const common[] = {"cap", "giay", "phep", "dang", "ky", "lai", "doi",
                                         "thong", "bao", "xac", "nhan", "ho", "so"};
    static const char *const extra[] = {"thu", "tuc", "dangky", "khia", "giayphep", "toi",
                                        "muon", "gplx", "caplai", "phe", "kar", "hanhh",
                                        /* match no term: the whole-query trigram fallback */
                                        "thuy2", "karaoke1", "quang9", "xang7"};
    const size_t n_rare = sizeof rare / sizeof *rare, n_common = sizeof common / sizeof *common;
    struct search_index *idx = search_index_new();
    assert_non_null(idx);
    unsigned seed = 12345;
#define NEXT() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF)
    for (size_t i = 0; i < 3000; i++) {
        char code[16], name[128], very_rare[4];
        unsigned x = NEXT() % 400;
        snprintf(very_rare, sizeof very_rare, "q%c%c", 'a' + x % 26, 'a' + x / 26);
        const char *w[4] = {common[NEXT() % n_common], common[NEXT() % n_common],
                            rare[NEXT() % n_rare], NEXT() % 3 == 0 ? rare[NEXT() % n_rare] : very_rare};
        /* codes not in the order added: ties are not decided by the order met */
        snprintf(code, sizeof code, "9.%06zu", (i * 7919) % 3000 + 1);
        snprintf(name, sizeof name, "%s %s %s%s%s", w[0], w[1], w[2], w[3] ? " " : "",
                 w[3] ? w[3] : "");
        const char *terms[8] = {code, w[0], w[1], w[2], "thu", "tuc"};
        bool in_name[8] = {true, true, true, true, false, false};
        size_t n = 6;
        if (w[3] != NULL) {
            terms[n] = w[3];
            in_name[n++] = true;
        }
        const char *channels[] = {"online"};
        const char *agencies[] = {"000.00.00.H56"};
        struct search_index_doc d = {
            .code = code, .search_name = name, .summary_json = "{}",
            .sector_code = i % 2 ? "s1" : "s2", .admin_level = "commune", .online_level = 4,
            .agencies = agencies, .n_agencies = 1, .channels = channels, .n_channels = 1,
            .terms = terms, .in_name = in_name, .n_terms = n};
        assert_true(search_index_add_doc(idx, &d));
    }
    assert_true(search_index_add_filler(idx, "toi"));
    assert_true(search_index_add_filler(idx, "muon"));
    assert_true(search_index_add_synonym(idx, "gplx", "giay phep lai"));
    assert_true(search_index_finish(idx));
    size_t compared = 0;
    for (size_t t = 0; t < 600; t++) {
        char qn[160] = "";
        size_t words = 1 + NEXT() % 4;
        for (size_t k = 0; k < words; k++) {
            unsigned pick = NEXT() % 12, x = NEXT() % 400;
            char very_rare[4];
            snprintf(very_rare, sizeof very_rare, "q%c%c", 'a' + x % 26, 'a' + x / 26);
            const char *w = pick < 4    ? common[NEXT() % n_common]
                            : pick < 7  ? rare[NEXT() % n_rare]
                            : pick < 10 ? very_rare
                                        : extra[NEXT() % (sizeof extra / sizeof *extra)];
            snprintf(qn + strlen(qn), sizeof qn - strlen(qn), "%s%s", k ? " " : "", w);
        }
        struct search_index_filter filter = {.sector = NEXT() % 4 == 0 ? "s1" : NULL};
        for (int page = 0; page < 3; page++) {
            struct search_index_hit *fast = NULL, *full = NULL;
            size_t n_fast = 0, n_full = 0;
            search_index_set_exhaustive(idx, false);
            assert_int_equal(search_index_query(idx, qn, &filter, 21, &fast, &n_fast),
                             SEARCH_INDEX_OK);
            search_index_set_exhaustive(idx, true);
            assert_int_equal(search_index_query(idx, qn, &filter, 21, &full, &n_full),
                             SEARCH_INDEX_OK);
            assert_int_equal(n_fast, n_full);
            for (size_t i = 0; i < n_fast; i++) {
                assert_string_equal(fast[i].code, full[i].code);
                assert_int_equal(fast[i].rank, full[i].rank);
            }
            compared += n_fast;
            if (n_fast == 21) {
                filter.has_cursor = true;
                filter.cursor_rank = fast[19].rank;
                filter.cursor_code = fast[19].code; /* the index's string: idx outlives it */
            }
            free(fast);
            free(full);
            if (n_full < 21)
                break;
        }
    }
#undef NEXT
    assert_true(compared > 5000); /* the queries found something to compare */
    search_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norm),
        cmocka_unit_test(test_trigram_similarity),
        cmocka_unit_test(test_exact_name_first_then_shorter_name),
        cmocka_unit_test(test_words_not_all_required_and_fillers_count_little),
        cmocka_unit_test(test_synonyms_add_a_reading),
        cmocka_unit_test(test_misspelt_run_together_and_iy),
        cmocka_unit_test(test_last_word_is_a_prefix),
        cmocka_unit_test(test_filters_and_cursor),
        cmocka_unit_test(test_nothing_matches),
        cmocka_unit_test(test_a_code_with_a_suffix),
        cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_nearest_term_is_the_full_scan_answer),
        cmocka_unit_test(test_ties_in_code_order),
        cmocka_unit_test(test_whole_query_trigram_fallback),
        cmocka_unit_test(test_shortcuts_answer_as_the_exhaustive_scoring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
