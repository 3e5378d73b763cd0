package synth

import (
	"math"
	"time"
)

// profile is when one category's synthetic incidents happen. The weight of
// an hour of the range is
//
//	month[local month] × weekday[local "night-owl day"] × hour[local hour] × (dark if the sun is down)
//
// in UK local time (GMT/BST). The night-owl day starts at 06:00, so the
// small hours of Saturday count as Friday night: that is how "violence
// peaks on Friday and Saturday nights" is expressed with one weekday table.
// The tables are relative weights (100 = ordinary), not counts.
type profile struct {
	month   [12]float64 // January .. December
	weekday [7]float64  // Monday .. Sunday, of the night-owl day
	hour    [24]float64 // 00:00-00:59 .. 23:00-23:59 local clock time
	// dark multiplies the weight of an hour whose middle is between
	// sunset and sunrise (see sunDown): burglars and car thieves prefer
	// the dark, and winter has more of it.
	dark float64
	// window is the share of reports that give a period ("between 22:00
	// and 06:00") rather than a moment; such a period lasts between
	// minWin and maxWin (log-uniform) and contains the moment drawn from
	// the tables. The rest span one second, as an exact timestamp does.
	window         float64
	minWin, maxWin time.Duration
	// outcomes are police.uk "Last outcome category" values with weights;
	// none means the outcome stays empty, as for police.uk's anti-social
	// behaviour.
	outcomes []weighted
}

type weighted struct {
	text   string
	weight float64
}

// Month tables (January .. December).
var (
	monthFlat     = [12]float64{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100}
	monthViolence = [12]float64{95, 90, 95, 100, 105, 105, 110, 105, 100, 100, 95, 110}   // summer and December parties
	monthASB      = [12]float64{75, 75, 90, 105, 115, 125, 135, 130, 105, 110, 85, 70}    // summer evenings, Halloween and bonfire night
	monthBurglary = [12]float64{125, 115, 100, 90, 85, 80, 80, 85, 95, 110, 125, 130}     // dark evenings (and sunDown on top)
	monthShop     = [12]float64{95, 95, 100, 100, 100, 95, 95, 95, 100, 105, 110, 125}    // Christmas shopping
	monthVehicle  = [12]float64{110, 105, 100, 95, 95, 90, 90, 95, 100, 105, 110, 115}    // long nights
	monthBicycle  = [12]float64{60, 65, 85, 100, 120, 135, 140, 140, 120, 100, 80, 60}    // cycling season
	monthSummer   = [12]float64{90, 90, 95, 100, 105, 110, 110, 110, 100, 100, 95, 90}    // more people out
	monthDamage   = [12]float64{95, 90, 100, 100, 105, 105, 105, 100, 100, 115, 105, 95}  // bonfire season
	monthDrugs    = [12]float64{100, 100, 100, 100, 105, 105, 105, 105, 100, 100, 95, 90} // patrols follow the night-time economy
)

// Weekday tables (Monday .. Sunday of the night-owl day, 06:00 to 06:00).
var (
	weekFlat     = [7]float64{100, 100, 100, 100, 100, 100, 100}
	weekViolence = [7]float64{85, 80, 85, 95, 135, 150, 110} // Friday and Saturday nights
	weekNightOut = [7]float64{90, 90, 90, 100, 125, 130, 100}
	weekASB      = [7]float64{95, 95, 95, 100, 115, 120, 105}
	weekShop     = [7]float64{110, 110, 110, 110, 115, 100, 55} // shops close early on Sunday
	weekBurglary = [7]float64{105, 100, 100, 100, 105, 95, 95}
	weekVehicle  = [7]float64{95, 95, 95, 100, 110, 110, 100}
	weekDrugs    = [7]float64{110, 110, 110, 105, 100, 85, 80} // police activity: weekday shifts
)

// Hour tables (local clock hour 0 .. 23).
var (
	//                      00  01  02  03  04  05  06  07  08  09 10  11  12  13  14  15  16  17  18  19  20  21  22   23
	hourViolence = [24]float64{70, 60, 45, 25, 15, 10, 12, 20, 30, 35, 40, 45, 50, 50, 55, 65, 70, 75, 80, 85, 90, 95, 100, 90}
	hourOrder    = [24]float64{60, 50, 35, 20, 12, 8, 10, 20, 35, 45, 50, 55, 60, 60, 65, 75, 80, 85, 85, 90, 95, 100, 90, 75}
	hourASB      = [24]float64{40, 30, 20, 12, 8, 6, 8, 15, 25, 30, 35, 40, 45, 50, 55, 70, 85, 95, 100, 100, 95, 85, 70, 55}
	hourShop     = [24]float64{1, 1, 1, 1, 1, 1, 3, 10, 30, 55, 75, 90, 95, 100, 100, 100, 95, 85, 65, 45, 30, 20, 10, 3}
	hourBurglary = [24]float64{55, 50, 45, 40, 30, 20, 15, 20, 30, 40, 45, 45, 45, 45, 50, 55, 65, 80, 90, 90, 80, 70, 65, 60}
	hourVehicle  = [24]float64{100, 100, 95, 90, 75, 50, 30, 25, 25, 25, 25, 25, 25, 25, 25, 25, 30, 40, 50, 60, 70, 80, 90, 95}
	hourBicycle  = [24]float64{20, 15, 10, 10, 10, 10, 20, 45, 70, 70, 70, 70, 75, 75, 75, 80, 85, 85, 80, 65, 50, 40, 30, 25}
	hourDaytime  = [24]float64{30, 25, 20, 15, 10, 10, 15, 30, 50, 65, 75, 80, 85, 85, 85, 90, 95, 95, 95, 90, 80, 70, 55, 40}
	hourDamage   = [24]float64{55, 45, 35, 25, 15, 10, 15, 25, 35, 40, 45, 45, 50, 50, 55, 65, 75, 85, 90, 95, 100, 95, 85, 70}
	hourRobbery  = [24]float64{60, 50, 40, 25, 15, 10, 10, 15, 25, 30, 35, 40, 45, 50, 55, 65, 75, 85, 90, 95, 100, 95, 90, 75}
	hourDrugs    = [24]float64{45, 35, 25, 15, 10, 5, 5, 10, 20, 35, 50, 60, 70, 75, 80, 85, 90, 95, 100, 100, 95, 85, 70, 55}
)

// Outcome mixes, from the last outcomes of the 2,962 Harborough rows of
// the seven real police.uk months in ../shared/data (the largest groups of
// each category, rounded).
var (
	outcomesTheft = []weighted{
		{"Investigation complete; no suspect identified", 80}, {"Unable to prosecute suspect", 10},
		{"Court result unavailable", 3}, {"Under investigation", 3}, {"Formal action is not in the public interest", 2},
		{"Local resolution", 1}, {"Offender given a caution", 1},
	}
	outcomesViolence = []weighted{
		{"Unable to prosecute suspect", 56}, {"Investigation complete; no suspect identified", 12},
		{"Action to be taken by another organisation", 6}, {"Under investigation", 6},
		{"Formal action is not in the public interest", 5}, {"Local resolution", 4}, {"Court result unavailable", 3},
		{"Further action is not in the public interest", 2}, {"Awaiting court outcome", 2}, {"Offender given a caution", 2},
		{"Offender sent to prison", 1}, {"Offender given community sentence", 1},
	}
	outcomesDamage = []weighted{
		{"Investigation complete; no suspect identified", 62}, {"Unable to prosecute suspect", 24},
		{"Local resolution", 3}, {"Under investigation", 3}, {"Court result unavailable", 2},
		{"Formal action is not in the public interest", 2}, {"Action to be taken by another organisation", 2}, {"Offender given a caution", 1},
	}
	outcomesOrder = []weighted{
		{"Unable to prosecute suspect", 42}, {"Investigation complete; no suspect identified", 28},
		{"Further investigation is not in the public interest", 6}, {"Formal action is not in the public interest", 5},
		{"Local resolution", 5}, {"Under investigation", 4}, {"Court result unavailable", 3}, {"Action to be taken by another organisation", 2},
	}
	outcomesShop = []weighted{
		{"Investigation complete; no suspect identified", 69}, {"Court result unavailable", 7}, {"Unable to prosecute suspect", 7},
		{"Awaiting court outcome", 3}, {"Offender sent to prison", 3}, {"Formal action is not in the public interest", 2},
		{"Offender given suspended prison sentence", 2}, {"Further investigation is not in the public interest", 2},
		{"Offender fined", 2}, {"Local resolution", 2},
	}
	outcomesDrugs = []weighted{
		{"Local resolution", 46}, {"Court result unavailable", 13}, {"Investigation complete; no suspect identified", 10},
		{"Offender given a caution", 8}, {"Unable to prosecute suspect", 8}, {"Action to be taken by another organisation", 5},
		{"Offender given a drugs possession warning", 5}, {"Awaiting court outcome", 3}, {"Offender deprived of property", 2},
	}
	outcomesWeapons = []weighted{
		{"Unable to prosecute suspect", 35}, {"Investigation complete; no suspect identified", 15},
		{"Action to be taken by another organisation", 10}, {"Further investigation is not in the public interest", 10},
		{"Offender given community sentence", 10}, {"Local resolution", 10}, {"Awaiting court outcome", 5}, {"Under investigation", 5},
	}
	outcomesOther = []weighted{
		{"Unable to prosecute suspect", 31}, {"Investigation complete; no suspect identified", 25}, {"Under investigation", 11},
		{"Action to be taken by another organisation", 8}, {"Formal action is not in the public interest", 7},
		{"Court result unavailable", 5}, {"Further action is not in the public interest", 5}, {"Local resolution", 4},
		{"Awaiting court outcome", 4},
	}
)

// profiles maps each police.uk category slug to its profile. It is only
// ever looked up, never ranged over, so map order cannot leak into the
// generated rows.
var profiles = map[string]*profile{
	"anti-social-behaviour": {month: monthASB, weekday: weekASB, hour: hourASB, dark: 1,
		window: 0.3, minWin: 10 * time.Minute, maxWin: 3 * time.Hour},
	"bicycle-theft": {month: monthBicycle, weekday: weekFlat, hour: hourBicycle, dark: 1,
		window: 0.6, minWin: time.Hour, maxWin: 9 * time.Hour, outcomes: outcomesTheft},
	"burglary": {month: monthBurglary, weekday: weekBurglary, hour: hourBurglary, dark: 1.8,
		window: 0.6, minWin: time.Hour, maxWin: 10 * time.Hour, outcomes: outcomesTheft},
	"criminal-damage-arson": {month: monthDamage, weekday: weekNightOut, hour: hourDamage, dark: 1.2,
		window: 0.4, minWin: time.Hour, maxWin: 10 * time.Hour, outcomes: outcomesDamage},
	"drugs": {month: monthDrugs, weekday: weekDrugs, hour: hourDrugs, dark: 1,
		outcomes: outcomesDrugs},
	"other-theft": {month: monthSummer, weekday: weekFlat, hour: hourDaytime, dark: 1,
		window: 0.4, minWin: 30 * time.Minute, maxWin: 6 * time.Hour, outcomes: outcomesTheft},
	"possession-of-weapons": {month: monthFlat, weekday: weekNightOut, hour: hourOrder, dark: 1,
		outcomes: outcomesWeapons},
	"public-order": {month: monthSummer, weekday: weekNightOut, hour: hourOrder, dark: 1,
		window: 0.1, minWin: 5 * time.Minute, maxWin: time.Hour, outcomes: outcomesOrder},
	"robbery": {month: monthFlat, weekday: weekNightOut, hour: hourRobbery, dark: 1.3,
		window: 0.05, minWin: 5 * time.Minute, maxWin: 30 * time.Minute, outcomes: outcomesTheft},
	"shoplifting": {month: monthShop, weekday: weekShop, hour: hourShop, dark: 1,
		window: 0.15, minWin: 5 * time.Minute, maxWin: 45 * time.Minute, outcomes: outcomesShop},
	"theft-from-the-person": {month: monthSummer, weekday: weekNightOut, hour: hourDaytime, dark: 1,
		window: 0.3, minWin: 10 * time.Minute, maxWin: 2 * time.Hour, outcomes: outcomesTheft},
	"vehicle-crime": {month: monthVehicle, weekday: weekVehicle, hour: hourVehicle, dark: 1.4,
		window: 0.6, minWin: 2 * time.Hour, maxWin: 12 * time.Hour, outcomes: outcomesTheft},
	"violent-crime": {month: monthViolence, weekday: weekViolence, hour: hourViolence, dark: 1,
		window: 0.1, minWin: 5 * time.Minute, maxWin: time.Hour, outcomes: outcomesViolence},
	"other-crime": {month: monthFlat, weekday: weekFlat, hour: hourDaytime, dark: 1,
		window: 0.2, minWin: time.Hour, maxWin: 24 * time.Hour, outcomes: outcomesOther},
}

// ukOffset is the UK's offset from UTC at t: BST (UTC+1) from 01:00 UTC on
// the last Sunday of March to 01:00 UTC on the last Sunday of October, GMT
// otherwise (the rule since 1996). It is computed rather than read from the
// system's time zone database so that the same seed gives the same rows on
// every machine.
func ukOffset(t time.Time) time.Duration {
	y := t.UTC().Year()
	start := lastSunday(y, time.March).Add(time.Hour)
	end := lastSunday(y, time.October).Add(time.Hour)
	if !t.Before(start) && t.Before(end) {
		return time.Hour
	}
	return 0
}

func lastSunday(year int, month time.Month) time.Time {
	d := time.Date(year, month+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return d.AddDate(0, 0, -int(d.Weekday()))
}

// districtLat and districtLon place the sun for sunDown: the middle of
// Harborough District.
const (
	districtLat = 52.52
	districtLon = -1.05
)

// sunDown reports whether the sun is below the horizon over the district
// at t, by the standard low-precision formula (declination from the day of
// the year, hour angle of sunrise at -0.83°). It is within a few minutes of
// the almanac, plenty for weighting whole hours.
func sunDown(t time.Time) bool {
	t = t.UTC()
	day := float64(t.YearDay()) - 1 + (float64(t.Hour())+float64(t.Minute())/60)/24
	g := 2 * math.Pi / 365.25 * day // fractional year, radians
	decl := 0.006918 - 0.399912*math.Cos(g) + 0.070257*math.Sin(g) - 0.006758*math.Cos(2*g) +
		0.000907*math.Sin(2*g) - 0.002697*math.Cos(3*g) + 0.00148*math.Sin(3*g)
	eqTime := 229.18 * (0.000075 + 0.001868*math.Cos(g) - 0.032077*math.Sin(g) -
		0.014615*math.Cos(2*g) - 0.040849*math.Sin(2*g)) // minutes
	lat := districtLat * math.Pi / 180
	cosH := (math.Sin(-0.833*math.Pi/180) - math.Sin(lat)*math.Sin(decl)) / (math.Cos(lat) * math.Cos(decl))
	halfDay := math.Acos(math.Max(-1, math.Min(1, cosH))) * 180 / math.Pi * 4 // minutes either side of noon
	noon := 720 - 4*districtLon - eqTime                                      // solar noon, minutes after 00:00 UTC
	m := float64(t.Hour()*60+t.Minute()) + float64(t.Second())/60
	return m < noon-halfDay || m > noon+halfDay
}

// weightAt is the profile's weight for the UTC hour starting at h.
func (p *profile) weightAt(h time.Time) float64 {
	local := h.Add(ukOffset(h))
	owl := local.Add(-6 * time.Hour)                                           // the night-owl day starts at 06:00
	wd := (int(owl.Weekday()) + 6) % 7                                         // Monday = 0
	w := p.month[local.Month()-1] * p.weekday[wd] * p.hour[local.Hour()] / 1e6 // keep sums small
	if p.dark != 1 && sunDown(h.Add(30*time.Minute)) {
		w *= p.dark
	}
	return w
}
