/*
 * measures.h - association measures of a pair from exact counts: PMI, NPMI
 * and Dunning's G^2 (the contract's "Measures").
 *
 * The inputs are exact integers (window scope: counts in units of
 * 1/lcm(1..W) under harmonic weights; doc scope: documents), so a pair's
 * measures are the same doubles whatever the thread count. They are
 * computed so that no cancellation eats their digits: a pair whose terms
 * are nearly independent has a PMI and a G^2 near 0, which the obvious
 * formulas (a difference of large logarithms) get wrong in the leading
 * digits. Here every term is driven by the exact integer
 *   delta = k11*k22 - k12*k21 = c*n - m_a*m_b
 * of the 2x2 table, computed in 256 bits.
 */
#ifndef CS_MEASURES_H
#define CS_MEASURES_H

#include <stdint.h>

typedef struct cs_measures {
    double pmi, npmi, llr;
} cs_measures;

/* The measures of a pair counted c times whose terms have margins m_a and
 * m_b in a total n (window: m = sum of the term's pair counts, n = sum of
 * all margins; doc: m = doc_count, n = documents), all in the same units;
 * G^2 is divided by `unit` (the table scales with its units, the ratios do
 * not). Needs 0 < c <= min(m_a, m_b) and m_a + m_b - c <= n.
 *   pmi  = log2(c*n / (m_a*m_b))
 *   npmi = pmi / -log2(c/n), and 1 when c = n
 *   llr  = 2 * sum over the 2x2 table of k*ln(k/E) (0*ln 0 = 0)
 * Never NaN, infinite or -0. */
void cs_measures_of(unsigned __int128 c, unsigned __int128 m_a, unsigned __int128 m_b,
                    unsigned __int128 n, uint64_t unit, cs_measures *out);

#endif
