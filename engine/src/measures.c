/*
 * measures.c - PMI, NPMI and G^2 without cancellation (see measures.h).
 *
 * DESIGN
 * With k11 = c, k12 = m_a - c, k21 = m_b - c, k22 = n - m_a - m_b + c,
 * margins R1 = m_a, C1 = m_b, R2 = n - m_a, C2 = n - m_b, every cell
 * satisfies k*n - R*C = s*delta with s = +1 on the diagonal, -1 off it, and
 * delta = k11*k22 - k12*k21 (an exact 256-bit integer here). So
 *   c*n/(m_a*m_b) = 1 + delta/(m_a*m_b)          -> pmi = log1p(.) / ln 2
 *   k/E = 1 + x,  x = s*delta/(R*C),  E = R*C/n
 * and G^2/2 = sum k*ln(k/E) = sum [k*ln(k/E) - (k - E)] (the k - E sum to 0)
 *           = sum E*f(x),  f(x) = (1+x)*ln(1+x) - x >= 0.
 * Each cell's share is non-negative, so nothing cancels between cells, and
 * for |x| < 1/2 f comes from a series of positive terms (f_share), so
 * nothing cancels inside one either. A cell with k = 0 adds E (0*ln 0 = 0).
 * tests/ref/csref.py computes the same measures with 50-digit decimals;
 * test_measures checks hand-worked cases and near-independent tables.
 */
#include "measures.h"

#include <math.h>

typedef unsigned __int128 u128;
typedef struct {
    u128 hi, lo;
} u256;

static u256 mul(u128 a, u128 b)
{
    const uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    const uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    const u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1, p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    const u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10; /* < 3 * 2^64 */
    u256 r;
    r.lo = (u128)(uint64_t)p00 | (mid << 64);
    r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return r;
}

static double u256_to_double(u256 v)
{
    return (double)v.hi * 0x1p128 + (double)v.lo;
}

/* x - y as a double, exact until the final rounding (to within 2 ulp). */
static double sub_to_double(u256 x, u256 y)
{
    const int neg = x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo);
    if (neg) {
        u256 t = x;
        x = y;
        y = t;
    }
    u256 d;
    d.lo = x.lo - y.lo;
    d.hi = x.hi - y.hi - (x.lo < y.lo);
    const double v = u256_to_double(d);
    return neg ? -v : v;
}

/* (1+x)*ln(1+x) - x for -0.5 < x < 0.5, to full relative precision. With
 * t = x/(2+x), ln(1+x) = 2 atanh(t), and the expression becomes
 *   [sum over k >= 1 of t^(2k) * (2/(2k-1) + 2t/(2k+1))] / (1 - t),
 * a series of positive terms (|t| < 1/3), so nothing cancels, where the
 * direct formula loses up to three digits near |x| = 0.01. */
static double f_share(double x)
{
    const double t = x / (2 + x), t2 = t * t;
    double p = t2, sum = 0;
    for (int k = 1; k < 40; k++) {
        const double term = p * (2.0 / (2 * k - 1) + 2.0 * t / (2 * k + 1));
        sum += term;
        if (term <= sum * 1e-17)
            break;
        p *= t2;
    }
    return sum / (1 - t);
}

/* E*f(x) of one cell (see DESIGN): k its count, r and col its margins, s its
 * sign, all exact but `delta`, `dn`. */
static double cell(u128 k, u128 r, u128 col, int s, double delta, double dn)
{
    if (r == 0 || col == 0)
        return 0; /* then k = 0 and E = 0 */
    const double rc = (double)r * (double)col, e = rc / dn;
    if (k == 0)
        return e;
    const double x = s * delta / rc;
    if (fabs(x) < 0.5)
        return e * f_share(x);
    /* Far from independence: k*ln(k/E) - (k - E), the ratio taken whole
     * (x itself may have lost digits to rounding near -1). */
    const double dk = (double)k;
    return dk * log(dk * dn / rc) - s * delta / dn;
}

void cs_measures_of(u128 c, u128 m_a, u128 m_b, u128 n, uint64_t unit, cs_measures *out)
{
    const u128 k11 = c, k12 = m_a - c, k21 = m_b - c, k22 = n - m_a - m_b + c;
    const double delta = sub_to_double(mul(k11, k22), mul(k12, k21));
    const double dc = (double)c, dn = (double)n, ab = (double)m_a * (double)m_b;
    /* ln(c*n / (m_a*m_b)) */
    const double x = delta / ab;
    const double ln_ratio = x > -0.5 ? log1p(x) : log(dc * dn / ab);
    out->pmi = ln_ratio / M_LN2 + 0.0;
    /* -log2(c/n) = log2(n/c), from the exact n - c: no cancellation when
     * c is near n (doc scope) */
    out->npmi = c == n ? 1.0 : ln_ratio / log1p((double)(n - c) / dc) + 0.0;
    double half = cell(k11, m_a, m_b, +1, delta, dn) + cell(k12, m_a, n - m_b, -1, delta, dn) +
                  cell(k21, n - m_a, m_b, -1, delta, dn) + cell(k22, n - m_a, n - m_b, +1, delta, dn);
    double g2 = 2 * half / (double)unit;
    out->llr = g2 > 0 ? g2 : 0.0; /* each share is >= 0; a rounding below 0 is 0 */
}
