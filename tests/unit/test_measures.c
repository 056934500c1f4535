/*
 * test_measures.c - PMI, NPMI and G^2 (measures.c) against worked values.
 *
 * Expected values: by hand where the numbers allow, else from the test
 * suite's reference (tests/ref/csref.py: cooc_measures, 50-digit decimal
 * logarithms), written here as the doubles nearest to them.
 */
#include <math.h>
#include <stdint.h>

#include "measures.h"
#include "testhelp.h"

typedef unsigned __int128 u128;

static int close_to(double got, double want, double rel)
{
    if (got == want)
        return 1;
    return fabs(got - want) <= rel * fmax(fabs(got), fabs(want));
}

#define CHECK_CLOSE(got, want, rel)                                                  \
    CHECK_MSG(close_to((got), (want), (rel)), "%s = %.17g, want %.17g", #got, (double)(got), \
              (double)(want))

static int is_plain(double x) /* finite and not -0 */
{
    return isfinite(x) && !(x == 0 && signbit(x));
}

static void test_by_hand(void)
{
    /* k11 = 10, k12 = 10, k21 = 10, k22 = 70: n = 100, margins 20 and 20,
     * E = 4, 16, 16, 64.
     * pmi  = log2(10*100 / (20*20)) = log2(2.5)
     * npmi = log2(2.5) / log2(100/10) = log10(2.5)
     * G^2  = 2 * (10 ln(10/4) + 2 * 10 ln(10/16) + 70 ln(70/64)) */
    cs_measures m;
    cs_measures_of(10, 20, 20, 100, 1, &m);
    CHECK_CLOSE(m.pmi, log2(2.5), 1e-15);
    CHECK_CLOSE(m.npmi, log10(2.5), 1e-15);
    CHECK_CLOSE(m.llr, 2 * (10 * log(2.5) + 20 * log(0.625) + 70 * log(70.0 / 64)), 1e-13);
    CHECK_CLOSE(m.llr, 12.071371684209877, 1e-14);
}

static void test_independence_is_exactly_zero(void)
{
    /* c*n = m_a*m_b: 4 * 100 = 20 * 20 */
    cs_measures m;
    cs_measures_of(4, 20, 20, 100, 1, &m);
    CHECK(m.pmi == 0 && !signbit(m.pmi));
    CHECK(m.npmi == 0 && !signbit(m.npmi));
    CHECK(m.llr == 0 && !signbit(m.llr));
}

static void test_near_independence_keeps_its_digits(void)
{
    /* c*n - m_a*m_b is tiny beside c*n (about 1e-12 of it): the difference of
     * logarithms loses every digit; the reference's values (50 digits): */
    cs_measures m;
    cs_measures_of(1000000000000ull, 10000000000007ull, 10000000000003ull, 100000000000011ull, 1,
                   &m);
    CHECK_CLOSE(m.pmi, -1.2839985863907677e-12, 1e-12);
    CHECK_CLOSE(m.npmi, -1.9326104444688078e-13, 1e-12);
    CHECK_CLOSE(m.llr, 9.779012345675912e-13, 1e-9);
}

static void test_moderate_association_keeps_its_digits(void)
{
    /* |x| near 0.01, where (1+x)ln(1+x) - x computed directly loses about
     * three digits; the reference's values (50 digits): */
    cs_measures m;
    cs_measures_of(101, 1000, 1000, 10000, 1, &m);
    CHECK_CLOSE(m.pmi, 0.014355292977070042, 1e-14);
    CHECK_CLOSE(m.npmi, 0.002165365568319674, 1e-14);
    CHECK_CLOSE(m.llr, 0.01231332977490558, 1e-14);
    cs_measures_of(49, 1000, 1000, 20000, 1, &m);
    CHECK_CLOSE(m.pmi, -0.02914634565951648, 1e-14);
    CHECK_CLOSE(m.llr, 0.022294610425892602, 1e-14);
    cs_measures_of(1000003, 10000000, 10000000, 100000000, 1, &m);
    CHECK_CLOSE(m.pmi, 4.328078630552191e-06, 1e-14);
    CHECK_CLOSE(m.llr, 1.1111102331975128e-05, 1e-14);
}

static void test_edges(void)
{
    cs_measures m;
    /* doc scope, every document holds both terms: c = n, npmi 1 by rule */
    cs_measures_of(5, 5, 5, 5, 1, &m);
    CHECK(m.pmi == 0 && m.npmi == 1 && m.llr == 0);
    CHECK(is_plain(m.pmi) && is_plain(m.llr));
    /* the two terms only ever together: k12 = k21 = 0 (0 ln 0 = 0) */
    cs_measures_of(3, 3, 3, 50, 1, &m);
    CHECK_CLOSE(m.pmi, 4.058893689053568, 1e-14);
    CHECK_CLOSE(m.npmi, 1.0, 1e-14);
    CHECK_CLOSE(m.llr, 22.69675225006044, 1e-13);
    /* strongly negative association, numbers past 64 bits */
    const u128 a = ((u128)1 << 70) + 5, b = ((u128)1 << 71) + 3, n = ((u128)1 << 90) + 1;
    cs_measures_of(7, a, b, n, 1, &m);
    CHECK_CLOSE(m.pmi, -48.192645077942394, 1e-14);
    CHECK_CLOSE(m.npmi, -0.5527145670929297, 1e-14);
    CHECK_CLOSE(m.llr, 4503606069831881.0, 1e-12);
    CHECK(is_plain(m.pmi) && is_plain(m.npmi) && is_plain(m.llr));
}

static void test_units_scale(void)
{
    /* Harmonic counts come in units of 1/lcm(1..W): the measures of the same
     * table in units must be those of the table itself (G^2 divided back). */
    const uint64_t unit = 144403552893600ull; /* lcm(1..32) */
    cs_measures one, scaled;
    cs_measures_of(10, 20, 20, 100, 1, &one);
    cs_measures_of((u128)10 * unit, (u128)20 * unit, (u128)20 * unit, (u128)100 * unit, unit,
                   &scaled);
    CHECK_CLOSE(scaled.pmi, one.pmi, 1e-14);
    CHECK_CLOSE(scaled.npmi, one.npmi, 1e-14);
    CHECK_CLOSE(scaled.llr, one.llr, 1e-13);
}

static void test_never_nan(void)
{
    /* A sweep over small tables, every valid (c, m_a, m_b, n): always plain
     * numbers, npmi within [-1, 1], G^2 >= 0. */
    int bad = 0, n_cases = 0;
    for (unsigned n = 1; n <= 24; n++)
        for (unsigned ma = 1; ma <= n; ma++)
            for (unsigned mb = 1; mb <= n; mb++)
                for (unsigned c = 1; c <= ma && c <= mb; c++) {
                    if (ma + mb - c > n)
                        continue;
                    cs_measures m;
                    cs_measures_of(c, ma, mb, n, 1, &m);
                    n_cases++;
                    if (!is_plain(m.pmi) || !is_plain(m.npmi) || !is_plain(m.llr) || m.llr < 0 ||
                        m.npmi < -1 - 1e-12 || m.npmi > 1 + 1e-12)
                        bad++;
                }
    CHECK_MSG(bad == 0, "%d of %d tables gave a NaN, inf, -0 or out-of-range value", bad, n_cases);
}

int main(void)
{
    test_by_hand();
    test_independence_is_exactly_zero();
    test_near_independence_keeps_its_digits();
    test_moderate_association_keeps_its_digits();
    test_edges();
    test_units_scale();
    test_never_nan();
    return TEST_REPORT();
}
