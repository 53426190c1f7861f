package lora

// StripFormatVersion lets the external tests make a plain transformers directory.
var StripFormatVersion = stripFormatVersion
