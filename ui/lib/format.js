// @ts-check
// How figures are written, once for every front end (the field app, the
// county console): a rate is a percentage with one decimal, like the
// county's report (`sanjian stats`), or a dash when nothing is counted.

/**
 * @param {{ numerator: number, denominator: number } | null | undefined} rate
 * @returns {string}
 */
export function pct(rate) {
  if (!rate || !rate.denominator) return '—';
  return `${((100 * rate.numerator) / rate.denominator).toFixed(1)}%`;
}
