package config

import "strings"

// closest returns the option nearest to s by edit distance, or "" when
// none is near enough to be what the user meant.
func closest(s string, options []string) string {
	best, bestDist := "", 1<<30
	ns := normalizeWord(s)
	for _, o := range options {
		no := normalizeWord(o)
		d := distance(ns, no)
		if min(len(ns), len(no)) >= 3 && (strings.HasPrefix(ns, no) || strings.HasPrefix(no, ns)) {
			d = min(d, 1) // "warning" for warn, "jwks" for jwks_url
		}
		if d < bestDist {
			best, bestDist = o, d
		}
	}
	limit := 1
	switch n := len(s); {
	case n > 8:
		limit = 3
	case n > 4:
		limit = 2
	}
	if bestDist > limit || 3*bestDist > len(ns) {
		return ""
	}
	return best
}

// normalizeWord folds the spellings that differ only in case and
// separators: dataDir, data-dir and DATA_DIR all become datadir.
func normalizeWord(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
}

// distance is the optimal-string-alignment edit distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
