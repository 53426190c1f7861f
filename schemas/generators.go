package schemas

import "sort"

// Generators names the string value generators that catalog files may use in
// "x-gen" (schemas, function parameters) and "gen" (intent slots). The builtin
// teacher samples each from a seeded lexicon; the loader rejects unknown names
// so a typo in a catalog file fails at load, not in the middle of a run.
var Generators = map[string]string{
	// People and organisations.
	"person_name":   "full personal name",
	"first_name":    "given name",
	"last_name":     "family name",
	"contact_name":  "name of someone in the user's contacts",
	"username":      "account handle",
	"company":       "company or organisation name",
	"job_title":     "job title",
	"department":    "company department",
	"employee_name": "colleague's full name",
	"team":          "team name",
	// Contact details and places.
	"email":          "email address",
	"phone":          "phone number",
	"url":            "web address",
	"street_address": "street and house number",
	"city":           "city name",
	"state":          "state or region",
	"country":        "country name",
	"postal_code":    "postal code",
	"building":       "office building name",
	"meeting_room":   "meeting room name",
	"room":           "room of a home (kitchen, bedroom ...)",
	"place":          "point of interest (station, museum, park ...)",
	// Time.
	"date":      "calendar date, YYYY-MM-DD",
	"date_time": "date and time, RFC 3339",
	"time":      "time of day, HH:MM (the \"time\" format also accepts HH:MM:SS and an offset)",
	"duration":  "time span in words (10 minutes, 2 hours)",
	"weekday":   "day of the week",
	// Commerce and money.
	"product_name":         "retail product name",
	"product_category":     "retail category",
	"brand":                "brand name",
	"sku":                  "stock keeping unit code",
	"order_id":             "order number",
	"tracking_number":      "parcel tracking number",
	"coupon_code":          "discount code",
	"currency_code":        "ISO 4217 currency code",
	"merchant":             "shop or merchant name",
	"transaction_category": "spending category",
	"account_name":         "bank account nickname",
	"account_number":       "masked bank account number",
	"stock_symbol":         "stock ticker symbol",
	"color":                "colour name",
	"size":                 "clothing size",
	// Travel.
	"airline":        "airline name",
	"airport_code":   "IATA airport code",
	"flight_number":  "flight number",
	"hotel_name":     "hotel name",
	"room_type":      "hotel room type",
	"vehicle_model":  "car make and model",
	"license_plate":  "vehicle licence plate",
	"booking_ref":    "booking reference code",
	"seat":           "seat number",
	"loyalty_number": "frequent-flyer or loyalty number",
	// Health.
	"doctor_name":       "doctor's name with title",
	"medical_specialty": "medical specialty",
	"clinic_name":       "clinic or hospital name",
	"medication":        "medication name",
	"symptom":           "symptom description",
	"insurance_id":      "insurance member id",
	// Devices and IT.
	"sensor_id":   "IoT sensor identifier",
	"device_name": "device name",
	"hostname":    "server host name",
	"ip_address":  "IPv4 address",
	"software":    "software product name",
	"app_name":    "mobile app name",
	"ticket_id":   "support ticket id",
	"unit":        "measurement unit",
	"firmware":    "firmware version string",
	// Media and content.
	"song":       "song title",
	"artist":     "music artist",
	"album":      "album title",
	"playlist":   "playlist name",
	"podcast":    "podcast name",
	"movie":      "film title",
	"book_title": "book title",
	"author":     "book author",
	"genre":      "music, book or film genre",
	"language":   "human language name",
	"website":    "website name",
	// Food and leisure.
	"restaurant": "restaurant name",
	"cuisine":    "cuisine type",
	"dish":       "dish name",
	"recipe":     "recipe name",
	"ingredient": "cooking ingredient",
	"sport_team": "sports team",
	"event_name": "event name",
	// Free text.
	"title":        "short title",
	"topic":        "subject or topic",
	"note_text":    "short note body",
	"message_text": "short message body",
	"sentence":     "one plain sentence",
	"word":         "single common word",
	"project_name": "project name",
	"course_name":  "course name",
	"id":           "opaque identifier",
}

// GeneratorNames returns the generator names sorted.
func GeneratorNames() []string {
	names := make([]string, 0, len(Generators))
	for n := range Generators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
