package softlabel

import (
	"fmt"
	"strings"
)

// singleCodes answer taxonomies of up to 26 classes: single capital letters,
// one token in every common tokenizer.
const singleCodes = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// pairCodes answer larger taxonomies: the two-capital-letter strings, in
// order, that are one token in both cl100k_base and o200k_base (and so in the
// Llama 3 and Qwen 2 vocabularies, which extend cl100k_base), minus the
// English words (AM, AN, AS, ..., WE) that would pull the answer towards
// themselves. softlabels_test.go re-derives the list with tiktoken.
//
// Codes of one list never mix lengths: were "A" and "AB" both codes, a
// tokenizer that splits "AB" into "A" "B" would turn an answer AB into A.
// With two-letter codes only, such a split leaves a first token that is no
// code, which is ignored.
const pairCodes = "" +
	"AA AB AC AD AE AF AG AH AI AJ AK AL AO AP AQ AR AU AV AW AX " +
	"AY AZ BA BB BC BD BF BG BH BI BJ BK BL BM BN BO BP BR BS BT " +
	"BU BV BW BX CA CB CC CD CE CF CG CH CI CK CL CM CN CO CP CR " +
	"CS CT CU CV CW CX CY DA DB DC DD DE DF DG DH DI DJ DK DL DM " +
	"DN DP DR DS DT DU DV DW DX DY EA EB EC ED EE EF EG EH EI EK " +
	"EL EM EN EO EP EQ ER ES ET EU EV EW EX EZ FA FB FC FD FE FF " +
	"FG FH FI FK FL FM FN FO FP FR FS FT FU FW FX FY GA GB GC GD " +
	"GE GF GG GH GI GL GM GN GP GR GS GT GU GV GW GX GY HA HB HC " +
	"HD HF HG HH HK HL HM HN HO HP HQ HR HS HT HU HV HW HX HY HZ " +
	"IA IB IC ID IE IG IH II IJ IK IL IM IO IP IQ IR IU IV IW IX " +
	"IZ JA JB JC JD JE JI JJ JK JM JO JP JR JS JT JV KA KB KC KD " +
	"KE KF KG KH KI KK KL KM KN KO KP KR KS KT KV KW KY LA LB LC " +
	"LD LE LF LG LI LK LL LM LN LO LP LR LS LT LU LV LY MA MB MC"

// MaxSoftLabelClasses is the largest taxonomy ClassCodes can code.
var MaxClasses = len(strings.Fields(pairCodes))

// ClassCodes returns the answer codes of a taxonomy of n classes, one per
// class in taxonomy order: "A".."Z" for up to 26 classes, else the first n
// two-letter codes "AA", "AB", ... (see pairCodes for why these).
func ClassCodes(n int) ([]string, error) {
	switch {
	case n < 2:
		return nil, fmt.Errorf("class codes: %d classes, want at least 2", n)
	case n <= len(singleCodes):
		out := make([]string, n)
		for i := range out {
			out[i] = singleCodes[i : i+1]
		}
		return out, nil
	case n <= MaxClasses:
		return strings.Fields(pairCodes)[:n], nil
	}
	return nil, fmt.Errorf("class codes: %d classes, at most %d have single-token codes", n, MaxClasses)
}
