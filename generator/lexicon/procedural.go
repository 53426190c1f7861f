package lexicon

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// procedural holds the generators that build values instead of picking them
// from a list: codes and numbers need more variety than any list, and names
// combine first and last names.
var procedural = map[string]func(d *data, r *rand.Rand) string{
	"person_name":     fullName,
	"employee_name":   fullName,
	"contact_name":    contactName,
	"author":          authorName,
	"doctor_name":     func(d *data, r *rand.Rand) string { return "Dr. " + fullName(d, r) },
	"username":        username,
	"email":           email,
	"phone":           phone,
	"url":             webURL,
	"street_address":  streetAddress,
	"postal_code":     postalCode,
	"date":            date,
	"date_time":       dateTime,
	"time":            clock,
	"duration":        duration,
	"sku":             sku,
	"order_id":        orderID,
	"tracking_number": trackingNumber,
	"coupon_code":     couponCode,
	"account_number":  func(_ *data, r *rand.Rand) string { return "****" + digits(r, 4) },
	"flight_number":   flightNumber,
	"license_plate":   licensePlate,
	"booking_ref":     func(_ *data, r *rand.Rand) string { return code(r, 6) },
	"seat":            func(_ *data, r *rand.Rand) string { return fmt.Sprintf("%d%c", 1+r.IntN(45), 'A'+rune(r.IntN(6))) },
	"loyalty_number":  loyaltyNumber,
	"insurance_id":    insuranceID,
	"sensor_id":       sensorID,
	"hostname":        hostname,
	"ip_address":      ipAddress,
	"ticket_id":       ticketID,
	"firmware":        firmware,
	"id":              opaqueID,
}

const (
	digitChars = "0123456789"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	// codeChars leaves out 0/O and 1/I, which people misread in booking codes.
	codeChars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)

// chars returns n characters drawn from set.
func chars(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func digits(r *rand.Rand, n int) string { return chars(r, digitChars, n) }
func upper(r *rand.Rand, n int) string  { return chars(r, upperChars, n) }
func code(r *rand.Rand, n int) string   { return chars(r, codeChars, n) }

// nonZero returns n digits without a leading zero, so that a number stated in
// text ("order 04821" read as 4821) keeps its form.
func nonZero(r *rand.Rand, n int) string { return string(rune('1'+r.IntN(9))) + digits(r, n-1) }

func fullName(d *data, r *rand.Rand) string {
	return d.pick(r, "first_name") + " " + d.pick(r, "last_name")
}

func contactName(d *data, r *rand.Rand) string {
	switch n := r.IntN(10); {
	case n == 0:
		return d.pick(r, "relation_name")
	case n < 5:
		return d.pick(r, "first_name")
	default:
		return fullName(d, r)
	}
}

func authorName(d *data, r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%s %c. %s", d.pick(r, "first_name"), 'A'+rune(r.IntN(26)), d.pick(r, "last_name"))
	}
	return fullName(d, r)
}

func username(d *data, r *rand.Rand) string {
	first := strings.ToLower(d.pick(r, "first_name"))
	last := strings.ToLower(d.pick(r, "last_name"))
	switch r.IntN(4) {
	case 0:
		return first + "_" + last
	case 1:
		return first[:1] + last + digits(r, 2)
	case 2:
		return first + "." + last
	default:
		return first + nonZero(r, 3)
	}
}

func email(d *data, r *rand.Rand) string {
	first := strings.ToLower(d.pick(r, "first_name"))
	last := strings.ToLower(d.pick(r, "last_name"))
	domain := d.pick(r, "email_domain")
	switch r.IntN(4) {
	case 0:
		return first + "." + last + "@" + domain
	case 1:
		return first[:1] + last + "@" + domain
	case 2:
		return first + "_" + last + nonZero(r, 2) + "@" + domain
	default:
		return first + "@" + domain
	}
}

// phone returns a number in one of several national notations; all have 7-15
// digits and only the characters the catalog's "phone" format allows.
func phone(_ *data, r *rand.Rand) string {
	switch r.IntN(8) {
	case 0: // US, fictional 555-01xx range
		return fmt.Sprintf("+1 %s 555 01%s", nonZero(r, 3), digits(r, 2))
	case 1:
		return fmt.Sprintf("(%s) 555-01%s", nonZero(r, 3), digits(r, 2))
	case 2: // UK drama range 7946 0xxx
		return fmt.Sprintf("+44 20 7946 0%s", digits(r, 3))
	case 3: // Germany
		return fmt.Sprintf("+49 %s %s", nonZero(r, 2), nonZero(r, 7))
	case 4: // France
		return fmt.Sprintf("+33 %d %s %s %s %s", 1+r.IntN(9), digits(r, 2), digits(r, 2), digits(r, 2), digits(r, 2))
	case 5: // Australia
		return fmt.Sprintf("+61 %d %s %s", 2+r.IntN(7), nonZero(r, 4), digits(r, 4))
	case 6: // national German notation
		return fmt.Sprintf("0%s %s", nonZero(r, 2), nonZero(r, 7))
	default: // US with dots
		return fmt.Sprintf("%s.555.01%s", nonZero(r, 3), digits(r, 2))
	}
}

func webURL(d *data, r *rand.Rand) string {
	host := d.pick(r, "url_host")
	if r.IntN(3) == 0 {
		return "https://" + host
	}
	return "https://" + host + "/" + d.pick(r, "url_path") + "/" + nonZero(r, 4)
}

func streetAddress(d *data, r *rand.Rand) string {
	return fmt.Sprintf("%d %s %s", 1+r.IntN(980), d.pick(r, "street_name"), d.pick(r, "street_suffix"))
}

func postalCode(_ *data, r *rand.Rand) string {
	switch r.IntN(5) {
	case 0, 1: // US ZIP, German PLZ
		return nonZero(r, 5)
	case 2: // Canada
		return fmt.Sprintf("%s%s%s %s%s%s", upper(r, 1), digits(r, 1), upper(r, 1), digits(r, 1), upper(r, 1), digits(r, 1))
	case 3: // Netherlands
		return nonZero(r, 4) + " " + upper(r, 2)
	default: // UK
		return fmt.Sprintf("%s%d %d%s", upper(r, 2), 1+r.IntN(20), r.IntN(10), upper(r, 2))
	}
}

func duration(_ *data, r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("%d seconds", 10*(1+r.IntN(9)))
	case 1, 2:
		n := []int{1, 2, 3, 5, 10, 12, 15, 20, 25, 30, 40, 45, 90}[r.IntN(13)]
		if n == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", n)
	case 3:
		if n := 1 + r.IntN(6); n > 1 {
			return fmt.Sprintf("%d hours", n)
		}
		return "1 hour"
	case 4:
		return fmt.Sprintf("1 hour %d minutes", 5*(1+r.IntN(11)))
	default:
		if n := 1 + r.IntN(14); n > 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
}

func sku(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return "SKU-" + nonZero(r, 5)
	case 1:
		return upper(r, 2) + "-" + nonZero(r, 4) + "-" + upper(r, 3)
	default:
		return upper(r, 3) + nonZero(r, 4)
	}
}

func orderID(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return "ORD-" + nonZero(r, 5)
	case 1:
		return fmt.Sprintf("%s-%s-%s", nonZero(r, 3), digits(r, 7), digits(r, 7))
	default:
		return "A" + nonZero(r, 8)
	}
}

func trackingNumber(_ *data, r *rand.Rand) string {
	switch r.IntN(4) {
	case 0: // UPS style
		return "1Z" + chars(r, upperChars+digitChars, 16)
	case 1: // FedEx style
		return nonZero(r, 12)
	case 2: // DHL style
		return "JD" + digits(r, 18)
	default: // USPS style
		return "9400" + digits(r, 18)
	}
}

func couponCode(d *data, r *rand.Rand) string {
	w := d.pick(r, "coupon_word")
	if r.IntN(4) == 0 {
		return w + fmt.Sprint(2025+r.IntN(3))
	}
	return w + fmt.Sprint(5*(1+r.IntN(10)))
}

func flightNumber(d *data, r *rand.Rand) string {
	return d.pick(r, "airline_code") + " " + nonZero(r, 1+r.IntN(4))
}

func licensePlate(_ *data, r *rand.Rand) string {
	switch r.IntN(4) {
	case 0: // US style
		return upper(r, 3) + "-" + nonZero(r, 4)
	case 1: // California style
		return fmt.Sprintf("%d%s%s", 1+r.IntN(9), upper(r, 3), digits(r, 3))
	case 2: // UK style
		return upper(r, 2) + digits(r, 2) + " " + upper(r, 3)
	default: // German style
		return upper(r, 1+r.IntN(2)) + "-" + upper(r, 2) + " " + nonZero(r, 1+r.IntN(4))
	}
}

func loyaltyNumber(d *data, r *rand.Rand) string {
	return d.pick(r, "loyalty_prefix") + nonZero(r, 8+r.IntN(3))
}

func insuranceID(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return upper(r, 3) + nonZero(r, 9)
	case 1:
		return "INS-" + nonZero(r, 8)
	default:
		return upper(r, 1) + nonZero(r, 8) + "-" + digits(r, 2)
	}
}

func sensorID(d *data, r *rand.Rand) string {
	p := d.pick(r, "sensor_prefix")
	if r.IntN(2) == 0 {
		return p + "-" + digits(r, 4)
	}
	return fmt.Sprintf("%s-%02d-%02d", p, 1+r.IntN(20), 1+r.IntN(40))
}

func hostname(d *data, r *rand.Rand) string {
	h := fmt.Sprintf("%s-%02d", d.pick(r, "host_role"), 1+r.IntN(24))
	if r.IntN(2) == 0 {
		return h + "." + d.pick(r, "host_site") + ".internal"
	}
	return d.pick(r, "host_site") + "-" + h
}

// ipAddress returns a private IPv4 address, never a public one.
func ipAddress(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(256), 1+r.IntN(254))
	default:
		return fmt.Sprintf("172.%d.%d.%d", 16+r.IntN(16), r.IntN(256), 1+r.IntN(254))
	}
}

func ticketID(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return "TCK-" + nonZero(r, 6)
	case 1:
		return "INC" + digits(r, 7)
	default:
		return "SUP-" + nonZero(r, 4)
	}
}

func firmware(_ *data, r *rand.Rand) string {
	v := fmt.Sprintf("%d.%d.%d", 1+r.IntN(6), r.IntN(20), r.IntN(30))
	if r.IntN(3) == 0 {
		return "v" + v
	}
	return v
}

// opaqueID returns an identifier with no meaning, as a system would show it.
func opaqueID(_ *data, r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return chars(r, lowerChars, 1) + chars(r, lowerChars+digitChars, 7)
	case 1:
		return nonZero(r, 5)
	default:
		return "id-" + nonZero(r, 5)
	}
}

func uuid(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := []byte(chars(r, hex, 32))
	b[12] = '4'              // version 4
	b[16] = hex[8+r.IntN(4)] // variant 10xx
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}
