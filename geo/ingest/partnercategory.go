package ingest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo"
)

// CategoryUnmapped is the category of a partner record whose wording no
// rule of partner_category_map recognised. It is a sensitive category
// (migrations), so such a record is counted by area but never shown at a
// map point until someone maps its wording.
const CategoryUnmapped = "unmapped"

// Kinds of category rule.
const (
	RuleExact   = "exact"
	RulePattern = "pattern"
)

// CategoryRule is one row of partner_category_map.
type CategoryRule struct {
	ID        int64
	Source    string // "" for every partner
	Kind      string // RuleExact or RulePattern
	Text      string // normalised wording, or an RE2 pattern over it
	Category  string
	Rank      int
	Note      string
	UpdatedAt time.Time
	UpdatedBy string
}

// ErrBadRule is returned for a rule that cannot be stored.
var ErrBadRule = errors.New("bad category rule")

// NormaliseCategory is the form exact rules match: lower case, runs of
// anything but letters and digits as one space, trimmed ("Fly-Tipping "
// is "fly tipping").
func NormaliseCategory(s string) string { return normaliseHeader(s) }

// CategoryMapper maps partners' wording to category slugs with the rules
// of partner_category_map, loaded once per import.
type CategoryMapper struct {
	exact    map[[2]string]string
	patterns []compiledRule
	// sensitive are the categories never shown at a point
	// (sensitive_categories); a pattern's answer outside them is held
	// back when the wording names something sensitive (see Map).
	sensitive map[string]bool
}

// sensitiveWording finds words that say a record may be a sexual offence,
// domestic abuse, hate or harassment, whatever else it says ("ASB -
// sexual harassment", "Criminal damage - hate motivated"). A broad
// pattern rule (ASB, criminal damage, fire) must not carry such a record
// onto the public map under a harmless category: Map leaves it unmapped
// (itself sensitive) until a person maps that wording with an exact rule.
// It errs on the side of holding back ("domestic" in "deliberate fire -
// domestic" means a house, and still waits for a person).
var sensitiveWording = regexp.MustCompile(`\b(sex|sexual|sexually|rape|raped|indecent|indecency|voyeurism|domestic|dv|dva|coercive|hate|racist|racial|racially|homophobic|transphobic|religious|harassment|harassed|stalking|stalker|grooming|trafficking|slavery|child abuse|csa|cse)\b`)

type compiledRule struct {
	source   string
	re       *regexp.Regexp
	category string
	rank     int
	text     string
}

// Map returns the category for a partner's wording. ok is false when no
// rule maps it or the best patterns disagree; why then says which.
func (m *CategoryMapper) Map(source, wording string) (slug string, ok bool, why string) {
	n := NormaliseCategory(wording)
	if c, hit := m.exact[[2]string{source, n}]; hit {
		return c, true, ""
	}
	if c, hit := m.exact[[2]string{"", n}]; hit {
		return c, true, ""
	}
	slug, ok, why = m.mapPattern(source, n)
	if ok && !m.sensitive[slug] {
		// A rule for a sensitive category that matches too wins at any
		// rank: "Domestic abuse - noise nuisance" is domestic abuse.
		if s, hit := m.sensitivePattern(source, n); hit {
			return s, true, ""
		}
		if w := sensitiveWording.FindString(n); w != "" {
			return CategoryUnmapped, false, fmt.Sprintf("held back: the wording says %q, which may be sensitive, and only a pattern rule matched (%s); map this wording with an exact rule", w, slug)
		}
	}
	return slug, ok, why
}

// sensitivePattern returns the sensitive category of the highest-ranked
// matching pattern rule (this partner's or shared) that maps to one.
func (m *CategoryMapper) sensitivePattern(source, n string) (string, bool) {
	best, rank := "", -1
	for _, r := range m.patterns {
		if (r.source == "" || r.source == source) && m.sensitive[r.category] && r.rank > rank && r.re.MatchString(n) {
			best, rank = r.category, r.rank
		}
	}
	return best, rank >= 0
}

// mapPattern applies the pattern rules, a partner's own before the shared.
func (m *CategoryMapper) mapPattern(source, n string) (slug string, ok bool, why string) {
	for _, own := range []bool{true, false} {
		best, bestRank := map[string]string{}, 0
		for _, r := range m.patterns {
			if (r.source != "") != own || (own && r.source != source) || !r.re.MatchString(n) {
				continue
			}
			if len(best) == 0 || r.rank > bestRank {
				best, bestRank = map[string]string{}, r.rank
			}
			if r.rank == bestRank {
				best[r.category] = r.text
			}
		}
		switch len(best) {
		case 0:
			continue
		case 1:
			for c := range best {
				return c, true, ""
			}
		default:
			var cs []string
			for c, p := range best {
				cs = append(cs, fmt.Sprintf("%s (pattern %q)", c, p))
			}
			sort.Strings(cs)
			return CategoryUnmapped, false, "ambiguous: " + strings.Join(cs, " or ")
		}
	}
	return CategoryUnmapped, false, "no rule"
}

const selectRules = `SELECT id, source, kind, text, category, rank, note, updated_at, updated_by
FROM partner_category_map ORDER BY source, kind, rank DESC, text`

// CategoryRules lists the mapping rules.
func CategoryRules(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]CategoryRule, error) {
	rows, err := q.Query(ctx, selectRules)
	if err != nil {
		return nil, fmt.Errorf("category rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CategoryRule, error) {
		var c CategoryRule
		var rank int16
		err := r.Scan(&c.ID, &c.Source, &c.Kind, &c.Text, &c.Category, &rank, &c.Note, &c.UpdatedAt, &c.UpdatedBy)
		c.Rank = int(rank)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("category rules: %w", err)
	}
	return rules, nil
}

// LoadCategoryMapper reads the rules into a mapper. A stored pattern that
// does not compile (it was checked when set, so only a hand edit of the
// table does this) is an error, rather than a rule silently skipped.
func LoadCategoryMapper(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (*CategoryMapper, error) {
	rules, err := CategoryRules(ctx, q)
	if err != nil {
		return nil, err
	}
	m, err := newCategoryMapper(rules)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT slug FROM sensitive_categories`)
	if err != nil {
		return nil, fmt.Errorf("sensitive categories: %w", err)
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("sensitive categories: %w", err)
	}
	for _, s := range slugs {
		m.sensitive[s] = true
	}
	return m, nil
}

func newCategoryMapper(rules []CategoryRule) (*CategoryMapper, error) {
	m := &CategoryMapper{exact: map[[2]string]string{}, sensitive: map[string]bool{CategoryUnmapped: true}}
	for _, r := range rules {
		switch r.Kind {
		case RuleExact:
			m.exact[[2]string{r.Source, NormaliseCategory(r.Text)}] = r.Category
		case RulePattern:
			re, err := regexp.Compile(r.Text)
			if err != nil {
				return nil, fmt.Errorf("%w: rule %d pattern %q: %v", ErrBadRule, r.ID, r.Text, err)
			}
			m.patterns = append(m.patterns, compiledRule{source: r.Source, re: re, category: r.Category, rank: r.Rank, text: r.Text})
		}
	}
	return m, nil
}

const knownCategorySQL = `SELECT EXISTS (SELECT 1 FROM categories WHERE slug = $1)
	OR EXISTS (SELECT 1 FROM category_priorities WHERE category = $1)
	OR EXISTS (SELECT 1 FROM sensitive_categories WHERE slug = $1)`

const upsertRule = `INSERT INTO partner_category_map (source, kind, text, category, rank, note, updated_at, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, now(), $7)
ON CONFLICT (source, kind, text) DO UPDATE SET category = EXCLUDED.category, rank = EXCLUDED.rank,
	note = EXCLUDED.note, updated_at = now(), updated_by = EXCLUDED.updated_by
RETURNING id`

// SetCategoryRule adds or replaces a rule (matched on source, kind and
// text) and applies the new mapping to the partner incidents already
// stored, returning how many changed category. The category must be one
// this project knows (police.uk's, a partner slug of category_priorities,
// or a sensitive one); a pattern must compile. actor is recorded.
func SetCategoryRule(ctx context.Context, pool *pgxpool.Pool, r CategoryRule, actor string) (CategoryRule, int, error) {
	switch r.Kind {
	case RuleExact:
		r.Text = NormaliseCategory(r.Text)
	case RulePattern:
		if _, err := regexp.Compile(r.Text); err != nil {
			return r, 0, fmt.Errorf("%w: pattern %q: %v", ErrBadRule, r.Text, err)
		}
	default:
		return r, 0, fmt.Errorf("%w: kind %q: want exact or pattern", ErrBadRule, r.Kind)
	}
	if r.Text == "" || len(r.Text) > maxFieldText {
		return r, 0, fmt.Errorf("%w: the wording must have letters or digits and be under %d bytes", ErrBadRule, maxFieldText)
	}
	if r.Category != geo.Slugify(r.Category) || r.Category == "" {
		return r, 0, fmt.Errorf("%w: category %q is not a slug (e.g. anti-social-behaviour)", ErrBadRule, r.Category)
	}
	if r.Rank < -1000 || r.Rank > 1000 {
		return r, 0, fmt.Errorf("%w: rank %d out of -1000..1000", ErrBadRule, r.Rank)
	}
	var changed int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, knownCategorySQL, r.Category).Scan(&known); err != nil {
			return err
		}
		if !known {
			return fmt.Errorf("%w: category %q is not known: use a police.uk slug or a partner category of 'hotspot priorities list'", ErrBadRule, r.Category)
		}
		if err := tx.QueryRow(ctx, upsertRule, r.Source, r.Kind, r.Text, r.Category, int16(r.Rank), r.Note, actor).Scan(&r.ID); err != nil {
			return err
		}
		m, err := LoadCategoryMapper(ctx, tx)
		if err != nil {
			return err
		}
		changed, err = remapCategories(ctx, tx, m)
		return err
	})
	if err != nil {
		return r, 0, fmt.Errorf("set category rule: %w", err)
	}
	return r, changed, nil
}

const selectPartnerCategories = `SELECT id, source, source_category, category FROM incidents WHERE source_category <> '' ORDER BY id`

const updateCategories = `UPDATE incidents i SET category = v.category
FROM unnest($1::bigint[], $2::text[]) AS v(id, category) WHERE i.id = v.id`

// remapCategories applies the mapper to every stored partner incident
// and bumps the data version when any changed.
func remapCategories(ctx context.Context, tx pgx.Tx, m *CategoryMapper) (int, error) {
	rows, err := tx.Query(ctx, selectPartnerCategories)
	if err != nil {
		return 0, err
	}
	var ids []int64
	var cats []string
	for rows.Next() {
		var id int64
		var source, wording, cur string
		if err := rows.Scan(&id, &source, &wording, &cur); err != nil {
			rows.Close()
			return 0, err
		}
		if c, _, _ := m.Map(source, wording); c != cur {
			ids, cats = append(ids, id), append(cats, c)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, updateCategories, ids, cats); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, BumpDataVersion); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// UnmappedWording is a partner wording stored as CategoryUnmapped.
type UnmappedWording struct {
	Source, Wording string
	Count           int
}

const selectUnmapped = `SELECT source, source_category, count(*) FROM incidents
WHERE category = '` + CategoryUnmapped + `' AND source_category <> '' GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`

// UnmappedWordings lists the wordings waiting for a rule, most used first.
func UnmappedWordings(ctx context.Context, pool *pgxpool.Pool) ([]UnmappedWording, error) {
	rows, err := pool.Query(ctx, selectUnmapped)
	if err != nil {
		return nil, fmt.Errorf("unmapped categories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnmappedWording, error) {
		var u UnmappedWording
		var n int64
		err := r.Scan(&u.Source, &u.Wording, &n)
		u.Count = int(n)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("unmapped categories: %w", err)
	}
	return out, nil
}
